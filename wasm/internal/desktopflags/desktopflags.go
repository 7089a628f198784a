// Package desktopflags reads the desktop explorer's command line, and checks before
// Ebiten starts that there is a display to open a window on.
//
// It must not import Ebiten, directly or not: Ebiten's own init opens the display and
// panics without one (glfw: The GLFW library is not initialized), before main runs. Its
// subpackage preflight runs [Preflight] from an init that Go orders before Ebiten's
// (see preflight's doc), so `flowmatch-explorer -h` works anywhere and no display is one
// clear line.
package desktopflags

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Flags are the desktop explorer's settings.
type Flags struct {
	Models      string            // folder of models; "" finds one
	Shot        string            // PNG written once the run has finished, then exit
	ShotTimeout time.Duration     // with Shot: take the picture after this long anyway
	Settle      bool              // compute the whole run before the first frame
	NoUI        bool              // hide the on-canvas controls
	Workers     int               // goroutines integrating between frames (0: only in the frame budget)
	Settings    map[string]string // -NAME VALUE for the page's controls (model, path, nfe, …), checked by the app
}

func newFlagSet(f *Flags) *flag.FlagSet {
	fs := flag.NewFlagSet("flowmatch-explorer", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.Models, "models", "", "folder of models (manifest.json or NAME-PATH.safetensors files); default: www/models, then weights/")
	fs.StringVar(&f.Shot, "shot", "", "write a PNG of the window to this file once the run has finished (with -settle: at once), then exit")
	fs.DurationVar(&f.ShotTimeout, "shot-timeout", 2*time.Minute, "with -shot: take the picture after this long even if the run is not finished")
	fs.BoolVar(&f.Settle, "settle", false, "compute the whole run before the first frame (with -shot: a deterministic picture)")
	fs.BoolVar(&f.NoUI, "no-ui", false, "hide the on-canvas controls")
	fs.IntVar(&f.Workers, "workers", 1, "goroutines that integrate the particles between frames too (0: only within each frame's budget)")
	return fs
}

// Usage writes the help.
func Usage(w io.Writer) {
	fmt.Fprint(w, "usage: flowmatch-explorer [flags] [-NAME VALUE ...]\n\n"+
		"Animates particles flowing from noise into data. Click a control to cycle it\n"+
		"(right click: backwards), click the plot to drop particles, H for the keys.\n\nflags:\n")
	fs := newFlagSet(&Flags{})
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, "  -NAME VALUE\n    \tset a control as the page's query string does: -model moons, -path vp, -solver rk4,\n"+
		"    \t-nfe 8, -particles 20000, -trails on, -compare paths, … (www/README.md lists them)\n")
}

// Parse reads args (without the program name). -h returns flag.ErrHelp and prints
// nothing; any other error is one line.
func Parse(args []string) (*Flags, error) {
	f := &Flags{Settings: map[string]string{}}
	fs := newFlagSet(f)
	var own []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			own = append(own, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			own = append(own, a)
			continue
		}
		if fl := fs.Lookup(name); fl != nil {
			own = append(own, a)
			if _, isBool := fl.Value.(interface{ IsBoolFlag() bool }); !hasValue && !isBool && i+1 < len(args) {
				i++
				own = append(own, args[i]) // the flag's value, even one that starts with '-'
			}
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("-%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if name == "" {
			return nil, fmt.Errorf("bad flag syntax: %s", a)
		}
		f.Settings[name] = value
	}
	if err := fs.Parse(own); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (every setting is a flag: -h lists them)", fs.Arg(0))
	}
	if f.Workers < 0 {
		return nil, fmt.Errorf("-workers %d: want 0 or more", f.Workers)
	}
	return f, nil
}

// CheckSettings reports a setting whose name is not one of known (the app's controls).
func (f *Flags) CheckSettings(known []string) error {
	for name := range f.Settings {
		if !slices.Contains(known, name) {
			return fmt.Errorf("flag provided but not defined: -%s (-h lists the flags; controls: %s)", name, strings.Join(known, ", "))
		}
	}
	return nil
}

// CheckDisplay reports, on X11 and Wayland systems, that there is no display to open a
// window on. Elsewhere (macOS, Windows) there always is one.
func CheckDisplay(getenv func(string) string) error {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
	default:
		return nil
	}
	display := getenv("DISPLAY")
	if display == "" && getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("no display to open a window on (DISPLAY is not set): run it in a desktop session, " +
			"under Xvfb, or use the browser demo (make demo)")
	}
	if getenv("WAYLAND_DISPLAY") != "" {
		return nil
	}
	// A local X display ":N" listens on /tmp/.X11-unix/XN; a remote one can only be tried.
	if n, ok := strings.CutPrefix(strings.TrimPrefix(display, "unix"), ":"); ok {
		n, _, _ = strings.Cut(n, ".")
		if _, err := stat("/tmp/.X11-unix/X" + n); err != nil {
			return fmt.Errorf("cannot open display %s: no X server listens at /tmp/.X11-unix/X%s (is Xvfb or a desktop running?)", display, n)
		}
	}
	return nil
}

// stat is os.Stat, replaced in tests.
var stat = os.Stat

// Preflight handles what must not reach Ebiten: -h (help on stdout, exit 0), a bad
// command line (one line, exit 2) and a missing display (one line, exit 1).
func Preflight(args []string) {
	if _, err := Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			Usage(os.Stdout)
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "flowmatch-explorer: %v\n", err)
		os.Exit(2)
	}
	if err := CheckDisplay(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "flowmatch-explorer: %v\n", err)
		os.Exit(1)
	}
}
