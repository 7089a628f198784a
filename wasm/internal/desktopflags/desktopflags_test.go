package desktopflags

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	f, err := Parse([]string{"-models", "m", "-nfe", "8", "-workers", "0", "-settle", "-model=rings", "-shot-timeout", "5s", "--trails", "on"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Models != "m" || f.Workers != 0 || !f.Settle || f.ShotTimeout != 5*time.Second ||
		f.Settings["nfe"] != "8" || f.Settings["model"] != "rings" || f.Settings["trails"] != "on" || len(f.Settings) != 3 {
		t.Fatalf("parsed %+v", f)
	}
	if err := f.CheckSettings([]string{"model", "nfe", "trails"}); err != nil {
		t.Fatal(err)
	}
	if err := f.CheckSettings([]string{"model"}); err == nil || !strings.Contains(err.Error(), "-nfe") && !strings.Contains(err.Error(), "-trails") {
		t.Fatalf("unknown control: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, ""},
		{[]string{"-workers", "-1"}, "-workers -1"},
		{[]string{"-workers", "x"}, "invalid value"},
		{[]string{"-nfe"}, "-nfe needs a value"},
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{"-shot-timeout", "soon"}, "invalid value"},
	} {
		_, err := Parse(c.args)
		if c.want == "" {
			if !errors.Is(err, flag.ErrHelp) {
				t.Errorf("%q: %v, want flag.ErrHelp", c.args, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: err %v, want one line saying %q", c.args, err, c.want)
		}
	}
}

func TestUsage(t *testing.T) {
	var b bytes.Buffer
	Usage(&b)
	for _, want := range []string{"usage: flowmatch-explorer", "-models", "-workers", "-NAME VALUE"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, b.String())
		}
	}
}

func TestCheckDisplay(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if err := CheckDisplay(env(nil)); err == nil || !strings.Contains(err.Error(), "no display") {
		t.Fatalf("no DISPLAY: %v", err)
	}
	old := stat
	defer func() { stat = old }()
	stat = func(name string) (os.FileInfo, error) {
		if name == "/tmp/.X11-unix/X0" {
			return nil, nil
		}
		return nil, os.ErrNotExist
	}
	for _, m := range []map[string]string{{"DISPLAY": ":0"}, {"DISPLAY": ":0.0"}, {"DISPLAY": "unix:0"},
		{"DISPLAY": "remote:3"}, {"WAYLAND_DISPLAY": "wayland-0"}, {"WAYLAND_DISPLAY": "w", "DISPLAY": ":7"}} {
		if err := CheckDisplay(env(m)); err != nil {
			t.Errorf("%v: %v", m, err)
		}
	}
	if err := CheckDisplay(env(map[string]string{"DISPLAY": ":99"})); err == nil || !strings.Contains(err.Error(), "cannot open display :99") {
		t.Errorf("DISPLAY :99 with no server: %v", err)
	}
}
