// Command patchgen adapts gotch's generated libtorch wrappers to the installed libtorch.
//
// gotch v0.9.1 generates one C++ wrapper per ATen op (libtch/torch_api_generated.cpp.h)
// against libtorch 2.1. Compiled against an older or newer libtorch, some of those
// wrappers call ops or overloads that do not exist there. patchgen compiles
// libtch/torch_api.cpp with `g++ -fsyntax-only` and the same flags cgo uses, maps
// every error in the generated file to the wrapper that contains it, and replaces that
// wrapper's body with a thrown std::runtime_error naming the op; gotch turns that into
// a Go error (or a panic from the Must* variants) if the op is ever called. It repeats
// until the file compiles.
//
// Usage (run by scripts/setup-gotch.sh):
//
//	go run ./patchgen -dir third_party/gotch/libtch -cxxflags "..." -libtorch "1.13.1 (/usr)"
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const genFile = "torch_api_generated.cpp.h"

func main() {
	dir := flag.String("dir", "", "gotch's libtch folder (the copy, never the module cache)")
	cxx := flag.String("cxx", "g++", "C++ compiler")
	cxxflags := flag.String("cxxflags", "", "C++ flags, as in the cgo preamble of libtch/lib.go")
	libtorch := flag.String("libtorch", "the installed libtorch", "libtorch description for the error messages")
	maxRounds := flag.Int("rounds", 8, "give up after this many compile rounds")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "patchgen: -dir is required")
		os.Exit(2)
	}
	if err := run(*dir, *cxx, strings.Fields(*cxxflags), *libtorch, *maxRounds); err != nil {
		fmt.Fprintln(os.Stderr, "patchgen:", err)
		os.Exit(1)
	}
}

func run(dir, cxx string, flags []string, libtorch string, maxRounds int) error {
	total := 0
	for round := 1; round <= maxRounds; round++ {
		start := time.Now()
		out, ok := compile(dir, cxx, flags)
		lines, other := errorLines(out)
		fmt.Printf("    round %d: g++ -fsyntax-only took %.0fs, %d error location(s) in %s\n",
			round, time.Since(start).Seconds(), len(lines), genFile)
		if ok {
			fmt.Printf("    libtch compiles; %d wrapper(s) replaced by a runtime error in total\n", total)
			return nil
		}
		if len(lines) == 0 {
			return fmt.Errorf("torch_api.cpp does not compile and no error is in %s (so patching wrappers cannot help):\n%s",
				genFile, strings.Join(other, "\n"))
		}
		n, err := patch(filepath.Join(dir, genFile), lines, libtorch)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("errors remain in %s but none maps to a wrapper that is not already patched:\n%s",
				genFile, strings.Join(other, "\n"))
		}
		total += n
		fmt.Printf("    replaced %d wrapper(s)\n", n)
	}
	return fmt.Errorf("still failing after %d rounds", maxRounds)
}

func compile(dir, cxx string, flags []string) (string, bool) {
	args := append([]string{"-fsyntax-only", "-fmax-errors=0", "-x", "c++"}, flags...)
	args = append(args, "torch_api.cpp")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cxx, args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	return buf.String(), err == nil
}

// errorLines returns the lines of the generated file that compiler errors point at
// (directly, or as the "required from here" end of a template instantiation), and
// the error lines found elsewhere.
func errorLines(out string) (map[int]bool, []string) {
	re := regexp.MustCompile(regexp.QuoteMeta(genFile) + `:(\d+):\d+:\s+(error:|required from)`)
	lines := map[int]bool{}
	var other []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		l := sc.Text()
		if m := re.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			lines[n] = true
			continue
		}
		if strings.Contains(l, "error:") && len(other) < 40 {
			other = append(other, l)
		}
	}
	return lines, other
}

type wrapper struct {
	name       string
	start, end int // 0-based line indexes of the signature and of the closing brace
	retType    string
}

var sigRe = regexp.MustCompile(`^([a-z_0-9]+\s*\**)\s*(atg_[A-Za-z0-9_]+)\(.*\)\s*\{\s*$`)

func wrappers(lines []string) []wrapper {
	var ws []wrapper
	for i := 0; i < len(lines); i++ {
		m := sigRe.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		j := i + 1
		for j < len(lines) && lines[j] != "}" {
			j++
		}
		ws = append(ws, wrapper{name: m[2], start: i, end: j, retType: strings.TrimSpace(m[1])})
		i = j
	}
	return ws
}

const marker = "// patched by flowmatch scripts/setup-gotch.sh"

func patch(path string, errLines map[int]bool, libtorch string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(string(data), "\n")
	ws := wrappers(lines)
	hit := map[int]bool{} // wrapper index
	for l := range errLines {
		i := l - 1
		k := sort.Search(len(ws), func(k int) bool { return ws[k].end >= i })
		if k < len(ws) && ws[k].start <= i && i <= ws[k].end {
			hit[k] = true
		} else {
			return 0, fmt.Errorf("%s:%d: error outside any atg_ wrapper", path, l)
		}
	}
	var out []string
	n, prev := 0, 0
	for k := range ws {
		if !hit[k] {
			continue
		}
		w := ws[k]
		if strings.Contains(lines[w.start+1], marker) {
			continue
		}
		out = append(out, lines[prev:w.start+1]...)
		out = append(out,
			"  "+marker,
			fmt.Sprintf("  PROTECT(throw std::runtime_error(\"gotch: %s is not available in %s (its wrapper does not compile against these headers)\");)",
				w.name, strings.ReplaceAll(libtorch, `"`, `'`)))
		if w.retType != "void" {
			out = append(out, "  return 0;")
		}
		prev = w.end
		n++
	}
	out = append(out, lines[prev:]...)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp, path)
}
