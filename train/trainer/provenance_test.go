package trainer

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/cli"
	"github.com/flowmatch/flowmatch/weights"
)

func TestProvenanceCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "flowmatch train"},
		{[]string{"-data", "moons", "-path", "ot", "-lr", "2e-3", "-device", "cuda:0", "-resume"},
			"flowmatch train -data moons -path ot -lr 2e-3 -device cuda:0 -resume"},
		// What the shipped models recorded before: a temp folder, a build folder.
		{[]string{"-data", "moons", "-path", "ot", "-log-every", "3000", "-o", "/tmp/zoo/moons-ot.safetensors"},
			"flowmatch train -data moons -path ot -log-every 3000 -o moons-ot.safetensors"},
		{[]string{"-resume", "-ckpt", "build/otcfm/moons.ckpt", "-o", "build/otcfm/moons-ot.safetensors"},
			"flowmatch train -resume -ckpt moons.ckpt -o moons-ot.safetensors"},
		// Home folders, both flag forms, one and two dashes.
		{[]string{"-o=/home/ann/models/m.safetensors", "--ckpt", "/root/c.ckpt", "--o=/Users/ann/m2.safetensors"},
			"flowmatch train -o=m.safetensors --ckpt c.ckpt --o=m2.safetensors"},
		{[]string{"-ckpt=~/ckpt/run 1.ckpt", "-o", "./m.safetensors", "-o", "m.safetensors"},
			"flowmatch train '-ckpt=run 1.ckpt' -o m.safetensors -o m.safetensors"},
		// Windows paths, a trailing separator.
		{[]string{"-o", `C:\Users\ann\m.safetensors`, "-ckpt", `D:/runs/dir/`},
			"flowmatch train -o m.safetensors -ckpt dir"},
		// -data: a built-in dataset stays, a file is reduced.
		{[]string{"-data", "8gaussians", "-data=2spirals"}, "flowmatch train -data 8gaussians -data=2spirals"},
		{[]string{"-data", "/home/ann/data/points.csv", "-data=/tmp/x/p q.csv", "--data", "points.csv"},
			"flowmatch train -data points.csv '-data=p q.csv' --data points.csv"},
		// A value that looks like a flag is still the flag's value.
		{[]string{"-o", "-/tmp/x.safetensors"}, "flowmatch train -o x.safetensors"},
		// Any other value or argument holding a path is reduced too.
		{[]string{"-future", "/srv/data/f.bin", "-later=/var/tmp/g", "/tmp/stray", "--", "-o", "/tmp/y"},
			"flowmatch train -future f.bin -later=g stray -- -o y"},
		// Quoting survives.
		{[]string{"-o", "/tmp/it's.safetensors"}, `flowmatch train -o 'it'\''s.safetensors'`},
	} {
		if got := provenanceCommand(c.args); got != c.want {
			t.Errorf("provenanceCommand(%q)\n got %s\nwant %s", c.args, got, c.want)
		}
		// The record reads back (as a POSIX shell would split it) as the reduced arguments.
		words, err := shellSplit(provenanceCommand(c.args))
		if err != nil || len(words) != len(c.args)+2 || words[0] != "flowmatch" || words[1] != "train" {
			t.Errorf("provenanceCommand(%q) splits into %q, %v", c.args, words, err)
		}
	}
}

// ParseFlags records the reduced command.
func TestParseFlagsProvenance(t *testing.T) {
	dir := t.TempDir() // an absolute path in a temporary folder
	out, ckpt := filepath.Join(dir, "moons-ot.safetensors"), filepath.Join(dir, "moons.ckpt")
	env := cli.Env{Args: []string{"-data", "moons", "-path", "ot", "-device", "cpu", "-ckpt", ckpt, "-o", out},
		Stdout: io.Discard, Stderr: io.Discard}
	c, err := ParseFlags(env)
	if err != nil {
		t.Fatal(err)
	}
	want := "flowmatch train -data moons -path ot -device cpu -ckpt moons.ckpt -o moons-ot.safetensors"
	if c.Command != want {
		t.Errorf("Command %q, want %q", c.Command, want)
	}
	if c.Out != out || c.Ckpt != ckpt {
		t.Errorf("the paths used changed: -o %q, -ckpt %q", c.Out, c.Ckpt)
	}
}

// shellSplit splits s into words as a POSIX shell would (quotes and backslashes, no
// expansions): the inverse of the quoting in weights.RecordedCommand.
func shellSplit(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	in := false // inside a word
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n':
			if in {
				words, in = append(words, w.String()), false
				w.Reset()
			}
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated '")
			}
			w.WriteString(s[i+1 : i+1+j])
			i, in = i+1+j, true
		case '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
				}
				w.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, errors.New(`unterminated "`)
			}
			in = true
		case '\\':
			if i+1 < len(s) {
				i++
				w.WriteByte(s[i])
			}
			in = true
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words, nil
}

// shippedCommand is the provenance.command of the shipped model file named file (a
// base name) that recorded cmd: the arguments after "train" reduced by
// provenanceCommand, with the output named as the file is shipped (some were trained
// under another name and renamed), so that the command run in weights/ writes that
// file again.
func shippedCommand(cmd, file string) (string, error) {
	words, err := shellSplit(cmd)
	if err != nil {
		return "", err
	}
	i := 0
	for i < len(words) && words[i] != "train" {
		i++
	}
	if i == len(words) {
		return "", errors.New("no train subcommand")
	}
	args := words[i+1:]
	named := false
	for j, a := range args {
		switch {
		case (a == "-o" || a == "--o") && j+1 < len(args):
			args[j+1], named = file, true
		case strings.HasPrefix(a, "-o=") || strings.HasPrefix(a, "--o="):
			args[j], named = a[:strings.IndexByte(a, '=')+1]+file, true
		}
	}
	if !named {
		args = append(args, "-o", file)
	}
	return provenanceCommand(args), nil
}

func TestShippedCommand(t *testing.T) {
	for _, c := range []struct{ cmd, file, want string }{
		{"flowmatch train -data moons -path ot -seed 1 -log-every 3000 -o /tmp/zoo/moons-ot.safetensors", "moons-ot.safetensors",
			"flowmatch train -data moons -path ot -seed 1 -log-every 3000 -o moons-ot.safetensors"},
		{"flowmatch train -data moons -coupling ot -resume -ckpt build/otcfm/moons.ckpt -o build/otcfm/moons-ot.safetensors", "moons-ot-otcfm.safetensors",
			"flowmatch train -data moons -coupling ot -resume -ckpt moons.ckpt -o moons-ot-otcfm.safetensors"},
		{"/home/ann/go/bin/flowmatch train -data moons '-o=/tmp/a b/m.safetensors'", "m.safetensors",
			"flowmatch train -data moons -o=m.safetensors"},
		{"flowmatch train -data moons", "m.safetensors", "flowmatch train -data moons -o m.safetensors"},
	} {
		got, err := shippedCommand(c.cmd, c.file)
		if err != nil || got != c.want {
			t.Errorf("shippedCommand(%q, %q)\n got %s, %v\nwant %s", c.cmd, c.file, got, err, c.want)
		}
	}
}

var rewriteShipped = flag.Bool("rewrite-shipped", false, "rewrite provenance.command of the shipped models in ../../weights (see TestRewriteShipped)")

// TestRewriteShipped, run with -rewrite-shipped, rewrites the provenance.command of
// every model file in weights/ as shippedCommand gives it, keeping everything else:
//
//	cd train && go test ./trainer -run TestRewriteShipped -v -rewrite-shipped
//
// It checks each new file before replacing the old one: the data buffer (the tensors'
// stored float16 values) is the same bytes, every tensor's dtype, shape and offsets are
// the same, and the metadata differs in provenance.command alone. Files already clean
// are left as they are.
func TestRewriteShipped(t *testing.T) {
	if !*rewriteShipped {
		t.Skip("run with -rewrite-shipped to rewrite the shipped models' provenance")
	}
	files, err := filepath.Glob("../../weights/*.safetensors")
	if err != nil || len(files) == 0 {
		t.Fatalf("no model files in ../../weights (%v)", err)
	}
	for _, name := range files {
		old, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := weights.DecodeBytes(old)
		if err != nil {
			t.Fatal(err)
		}
		dtype := f.Tensors[0].DType
		for _, ts := range f.Tensors {
			if ts.DType != dtype {
				t.Fatalf("%s: mixed dtypes (%s, %s): Marshal would store one", name, dtype, ts.DType)
			}
		}
		cmd, err := shippedCommand(f.Meta.Provenance.Command, filepath.Base(name))
		if err != nil {
			t.Fatalf("%s: provenance.command %q: %v", name, f.Meta.Provenance.Command, err)
		}
		if cmd == f.Meta.Provenance.Command {
			t.Logf("%s: clean already", name)
			continue
		}
		f.Meta.Provenance.Command = cmd
		b, err := weights.Marshal(f, dtype)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameButCommand(old, b); err != nil {
			t.Fatalf("%s: the rewrite would change more than provenance.command: %v", name, err)
		}
		tmp := name + ".rewrite.tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, name); err != nil {
			os.Remove(tmp)
			t.Fatal(err)
		}
		t.Logf("%s: %s", name, cmd)
	}
}

// sameButCommand checks that model files a and b hold the same data buffer byte for
// byte, the same tensor entries, and the same metadata but for provenance.command.
func sameButCommand(a, b []byte) error {
	type parsed struct {
		meta    map[string]string
		entries map[string]json.RawMessage
		data    []byte
	}
	parse := func(f []byte) (parsed, error) {
		var p parsed
		n := binary.LittleEndian.Uint64(f)
		var h map[string]json.RawMessage
		if err := json.Unmarshal(f[8:8+n], &h); err != nil {
			return p, err
		}
		if err := json.Unmarshal(h["__metadata__"], &p.meta); err != nil {
			return p, err
		}
		delete(h, "__metadata__")
		p.entries, p.data = h, f[8+n:]
		return p, nil
	}
	pa, err := parse(a)
	if err != nil {
		return err
	}
	pb, err := parse(b)
	if err != nil {
		return err
	}
	if !bytes.Equal(pa.data, pb.data) {
		return errors.New("the data buffers differ")
	}
	if len(pa.entries) != len(pb.entries) {
		return errors.New("the tensor entries differ")
	}
	for k, v := range pa.entries {
		var ea, eb any
		json.Unmarshal(v, &ea)
		json.Unmarshal(pb.entries[k], &eb)
		if !reflect.DeepEqual(ea, eb) {
			return errors.New("tensor " + k + ": entries differ")
		}
	}
	provenance := func(m map[string]string) (map[string]any, error) {
		var p map[string]any
		err := json.Unmarshal([]byte(m[weights.KeyProvenance]), &p)
		delete(p, "command")
		return p, err
	}
	ma, err := provenance(pa.meta)
	if err != nil {
		return err
	}
	mb, err := provenance(pb.meta)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(ma, mb) {
		return errors.New("provenance differs beyond its command")
	}
	for k := range pa.meta {
		if k != weights.KeyProvenance && pa.meta[k] != pb.meta[k] {
			return errors.New("metadata " + k + " differs")
		}
	}
	if len(pa.meta) != len(pb.meta) {
		return errors.New("metadata keys differ")
	}
	return nil
}
