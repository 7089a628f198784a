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

// newStaticHandler serves the files under dir and nothing else: no directory listings,
// no dot files, no paths that climb out; GET and HEAD only.
func newStaticHandler(dir string) (http.Handler, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, Usagef("%s is not a folder: build the site first with make www (or pass -dir)", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		return nil, Usagef("%s has no index.html: build the site first with make www", dir)
	}
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, ".") {
				http.NotFound(w, r)
				return
			}
		}
		name := filepath.Join(dir, filepath.FromSlash(p))
		if st, err := os.Stat(name); err == nil && st.IsDir() {
			if _, err := os.Stat(filepath.Join(name, "index.html")); err != nil {
				http.NotFound(w, r) // no listings
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
