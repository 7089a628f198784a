package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// contentTypes are set explicitly rather than taken from the system's MIME tables,
// which differ between machines: browsers compile WebAssembly as it streams in only
// when it is served as application/wasm.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".json":        "application/json",
	".wasm":        "application/wasm",
	".safetensors": "application/octet-stream",
	".png":         "image/png",
	".svg":         "image/svg+xml",
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".csv":         "text/csv; charset=utf-8",
}

// serveContext is the context a server runs under: cancelled by Ctrl-C or SIGTERM.
// Tests replace it.
var serveContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func serveCommand() Command {
	return Command{
		Name:    "serve",
		Summary: "serve the browser demo (www/) over HTTP",
		Run: func(env Env) error {
			fs := NewFlagSet(env, "serve", "[-addr HOST:PORT] [-dir DIR]")
			addr := fs.String("addr", "localhost:8080", "address to listen on (port 0 picks a free one)")
			dir := fs.String("dir", "www", "the folder to serve: nothing outside it is reachable")
			if err := Parse(fs, env.Args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return Usagef("serve takes no arguments (got %q)", fs.Arg(0))
			}
			h, err := newStaticHandler(*dir)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", *addr)
			if err != nil {
				return Usagef("cannot listen on %s: %v", *addr, err)
			}
			url := "http://" + ln.Addr().String() + "/"
			if host, port, err := net.SplitHostPort(*addr); err == nil && host == "localhost" {
				url = "http://localhost:" + port + "/"
				if port == "0" {
					url = "http://" + ln.Addr().String() + "/"
				}
			}
			fmt.Fprintf(env.Stdout, "serving %s at %s (Ctrl-C to stop)\n", *dir, url)
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			ctx, cancel := serveContext()
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			select {
			case err := <-done:
				return err
			case <-ctx.Done():
				sctx, c := context.WithTimeout(context.Background(), 3*time.Second)
				defer c()
				srv.Shutdown(sctx)
				if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
					return err
				}
				return nil
			}
		},
	}
}

// Longest file name and path the handler looks up, as Linux's NAME_MAX and PATH_MAX:
// longer ones cannot exist, and asking the system for them fails with ENAMETOOLONG,
// which would otherwise reach the client as a 500.
const (
	maxNameLen = 255
	maxPathLen = 4096
)

// newStaticHandler serves the files under dir and nothing else: no directory listings,
// no dot files, no paths that climb out, no symlinks that lead out; GET and HEAD only.
func newStaticHandler(dir string) (http.Handler, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, Usagef("%s is not a folder: build the site first with make www (or pass -dir)", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		return nil, Usagef("%s has no index.html: build the site first with make www", dir)
	}
	// Requests are checked against the folder's real path, resolved once, so that a
	// -dir reached through a symlink still serves its own files.
	root, err := filepath.Abs(dir)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return nil, Usagef("cannot serve %s: %v", dir, err)
	}
	files := http.FileServer(http.Dir(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		if len(root)+len(p) > maxPathLen {
			http.NotFound(w, r)
			return
		}
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, ".") || len(seg) > maxNameLen {
				http.NotFound(w, r)
				return
			}
		}
		real, ok := within(root, filepath.Join(root, filepath.FromSlash(p)))
		if !ok {
			http.NotFound(w, r)
			return
		}
		if st, err := os.Stat(real); err != nil {
			http.NotFound(w, r)
			return
		} else if st.IsDir() {
			// A folder is served as its index.html, which must lie within too; without
			// one, nothing (no listings).
			if _, ok := within(root, filepath.Join(real, "index.html")); !ok {
				http.NotFound(w, r)
				return
			}
		}
		if ct, ok := contentTypes[strings.ToLower(path.Ext(p))]; ok {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}), nil
}

// within resolves name's symlinks and reports whether the file it names exists and
// lies inside root (itself a real path). Symlinks may lead anywhere inside root, but
// not out of it. A missing file, a symlink loop or a name the system finds too long is
// simply not there.
func within(root, name string) (string, bool) {
	real, err := filepath.EvalSymlinks(name)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return real, true
}
