// Package headless starts Debian's chromium without a display, for the end-to-end tests
// (wasm/e2e) and the browser benchmark (wasm/cmd/benchweb), with the flags this kind of
// machine needs: no sandbox (they run as root), no GPU, and none of chromium's
// background connections, which the closed network refuses many at a time.
package headless

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"

	"github.com/chromedp/chromedp"
)

// Find returns the chromium on PATH, or "".
func Find() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start launches exe with a fresh profile in the folder profile and returns a browser
// context (a tab) under parent; cancel closes the browser. extra adds options, e.g.
// chromedp.WindowSize.
func Start(parent context.Context, exe, profile string, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc, error) {
	if exe == "" {
		return nil, nil, errors.New("no chromium on PATH (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	)
	actx, cancelA := chromedp.NewExecAllocator(parent, append(opts, extra...)...)
	ctx, cancelB := chromedp.NewContext(actx)
	cancel := func() { cancelB(); cancelA() }
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("starting chromium (%s): %w", exe, err)
	}
	return ctx, cancel, nil
}

// Console collects a tab's console errors and uncaught exceptions.
type Console struct {
	mu   sync.Mutex
	errs []string
	keep int
}

// Watch starts collecting ctx's console errors, keeping the last keep (all if keep ≤ 0).
func Watch(ctx context.Context, keep int) *Console {
	c := &Console{keep: keep}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				c.mu.Lock()
				c.errs = append(c.errs, m.String())
				if c.keep > 0 && len(c.errs) > c.keep {
					c.errs = c.errs[1:]
				}
				c.mu.Unlock()
			}
		}
	}()
	return c
}

// Errors returns the errors so far.
func (c *Console) Errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}
