package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func site(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"index.html":            "<!doctype html><title>x</title>",
		"main.wasm":             "\x00asm\x01\x00\x00\x00",
		"wasm_exec.js":          "// js",
		"styles.css":            "body{}",
		"models/manifest.json":  `{"version":1}`,
		"models/a.safetensors":  "12345678",
		".git/config":           "secret",
		"empty/keep.txt":        "x",
		"sub/index.html":        "<p>sub</p>",
		"models/.hidden":        "secret",
		"notes/ReadMe.MD":       "# hi",
		"models/moons-ot.bogus": "?",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestServeHandler(t *testing.T) {
	dir := site(t)
	h, err := newStaticHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, c := range []struct {
		method, path string
		code         int
		ctype, body  string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", "<title>x</title>"},
		{"GET", "/main.wasm", 200, "application/wasm", "\x00asm"},
		{"GET", "/wasm_exec.js", 200, "text/javascript; charset=utf-8", "// js"},
		{"GET", "/styles.css", 200, "text/css; charset=utf-8", "body{}"},
		{"GET", "/models/manifest.json", 200, "application/json", `{"version":1}`},
		{"GET", "/models/a.safetensors", 200, "application/octet-stream", "12345678"},
		{"GET", "/notes/ReadMe.MD", 200, "text/markdown; charset=utf-8", "# hi"},
		{"HEAD", "/main.wasm", 200, "application/wasm", ""},
		{"GET", "/.git/config", 404, "", ""},
		{"GET", "/models/.hidden", 404, "", ""},
		{"GET", "/../../etc/passwd", 404, "", ""},
		{"GET", "/%2e%2e/%2e%2e/etc/passwd", 404, "", ""},
		{"GET", "/empty/", 404, "", ""},
		{"GET", "/models/", 404, "", ""},
		{"GET", "/sub/", 200, "text/html; charset=utf-8", "<p>sub</p>"},
		{"GET", "/nope.html", 404, "", ""},
		{"POST", "/index.html", 405, "", ""},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.code)
			continue
		}
		if c.code != 200 {
			if strings.Contains(string(body), "secret") {
				t.Errorf("%s %s leaked a hidden file", c.method, c.path)
			}
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", c.method, c.path, got, c.ctype)
		}
		if !strings.Contains(string(body), c.body) {
			t.Errorf("%s %s: body %q, want it to contain %q", c.method, c.path, body, c.body)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: no nosniff header", c.method, c.path)
		}
	}
}

func TestServeUsage(t *testing.T) {
	if code, stdout, stderr := run(Commands(), "serve", "-h"); code != 0 || !strings.Contains(stdout, "-addr") || stderr != "" {
		t.Errorf("serve -h: exit %d, stdout %q, stderr %q; want 0 and the flags on stdout", code, stdout, stderr)
	}
	empty := t.TempDir()
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"serve", "-dir", filepath.Join(empty, "missing")}, 2, "is not a folder"},
		{[]string{"serve", "-dir", empty}, 2, "has no index.html"},
		{[]string{"serve", "-bogus"}, 2, "flag provided but not defined"},
		{[]string{"serve", "extra"}, 2, "takes no arguments"},
		{[]string{"serve", "-dir", site(t), "-addr", "256.0.0.1:99999"}, 2, "cannot listen"},
	} {
		code, _, stderr := run(Commands(), c.args...)
		if code != c.code || !strings.Contains(stderr, c.stderr) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("flowmatch %v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.stderr)
		}
	}
}

func TestServeRuns(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("no sockets under js/wasm")
	}
	ctx, cancel := context.WithCancel(context.Background())
	old := serveContext
	serveContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	defer func() { serveContext = old }()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	dir := site(t)
	go func() {
		done <- Main(Env{Args: []string{"serve", "-addr", "127.0.0.1:0", "-dir", dir}, Stdin: strings.NewReader(""), Stdout: pw, Stderr: io.Discard}, Commands())
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("no URL in %q", line)
	}
	url := strings.Fields(line[i:])[0]
	resp, err := http.Get(url + "main.wasm")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/wasm" {
		t.Errorf("GET main.wasm: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after a stop", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestServeConfined checks that nothing outside the folder is reachable through
// symlinks, that symlinks within it still work, and that overlong names are 404, not
// a server error.
func TestServeConfined(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "index.html"), []byte("secret index"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := site(t)
	for link, target := range map[string]string{
		"file-out.txt":        filepath.Join(outside, "secret.txt"),
		"dir-out":             outside,
		"rel-out.txt":         "../" + filepath.Base(outside) + "/secret.txt",
		"models/in.css":       "../styles.css",
		"in-dir":              "sub",
		"empty/index.html":    filepath.Join(outside, "index.html"),
		"loop":                "loop",
		"models/dangling.css": "nowhere.css",
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Skipf("symlinks: %v", err)
		}
	}
	// The folder itself may be reached through a symlink.
	linked := filepath.Join(t.TempDir(), "www")
	if err := os.Symlink(dir, linked); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 300)
	for _, root := range []string{dir, linked} {
		h, err := newStaticHandler(root)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		for _, c := range []struct {
			path string
			code int
			body string
		}{
			{"/file-out.txt", 404, ""},
			{"/dir-out/secret.txt", 404, ""},
			{"/dir-out/", 404, ""},
			{"/rel-out.txt", 404, ""},
			{"/empty/", 404, ""}, // its index.html leads outside
			{"/loop", 404, ""},
			{"/models/dangling.css", 404, ""},
			{"/models/in.css", 200, "body{}"},
			{"/in-dir/", 200, "<p>sub</p>"},
			{"/in-dir/index.html", 301, ""},
			{"/styles.css", 200, "body{}"},
			{"/" + long, 404, ""},
			{"/models/" + long + ".css", 404, ""},
			{"/" + strings.Repeat("abcdefgh/", 500) + "x.css", 404, ""},
		} {
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Get(srv.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			shown := c.path
			if len(shown) > 40 {
				shown = shown[:40] + "…"
			}
			if resp.StatusCode != c.code || !strings.Contains(string(body), c.body) || strings.Contains(string(body), "secret") {
				t.Errorf("-dir %s: GET %s: %d %q; want %d and %q", filepath.Base(root), shown, resp.StatusCode, body, c.code, c.body)
			}
		}
		srv.Close()
	}
}
