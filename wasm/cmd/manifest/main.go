// Command manifest writes models/manifest.json for the explorer: it opens every
// *.safetensors file in a folder, checks that it decodes into a 2-D model the
// explorer can show, and lists it with its dataset, path and coupling (from the file's
// provenance; make www runs it).
//
//	go run ./cmd/manifest -dir ../www/models -default moons-ot
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/weights"
)

func main() {
	dir := flag.String("dir", "www/models", "folder of *.safetensors model files; manifest.json is written there")
	def := flag.String("default", "moons-ot", "the model shown first, if present (else the first listed)")
	flag.Parse()
	if err := run(*dir, *def); err != nil {
		fmt.Fprintln(os.Stderr, "manifest:", err)
		os.Exit(1)
	}
}

func run(dir, def string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return err
	}
	m := &explorer.Manifest{Version: 1}
	for _, path := range files {
		f, err := weights.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if f.Meta.Data.Dim != 2 {
			fmt.Fprintf(os.Stderr, "manifest: skipping %s: dimension %d (the explorer shows 2-D models)\n", path, f.Meta.Data.Dim)
			continue
		}
		base := filepath.Base(path)
		name := strings.TrimSuffix(base, filepath.Ext(base))
		ds := f.Meta.Data.Name
		if ds == "" {
			ds = strings.TrimSuffix(strings.TrimSuffix(name, "-otcfm"), "-"+f.Meta.Path.Name)
		}
		e := explorer.Entry{Name: name, Dataset: ds, Path: f.Meta.Path.Name, File: base}
		if c := f.Meta.Provenance.Coupling; c != "" && c != explorer.CouplingIndependent {
			e.Coupling = c
		}
		if _, dup := m.FindCoupling(ds, e.Path, e.CouplingName()); dup {
			fmt.Fprintf(os.Stderr, "manifest: skipping %s: another file is already the %s model on path %s with the %s coupling\n",
				path, ds, e.Path, e.CouplingName())
			continue
		}
		st, _ := os.Stat(path)
		e.Bytes = st.Size()
		m.Models = append(m.Models, e)
		if name == def {
			m.Default = def
		}
	}
	if len(m.Models) == 0 {
		return fmt.Errorf("no models in %s", dir)
	}
	if err := m.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := outfile.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n')); err != nil {
		return err
	}
	fmt.Printf("manifest: %d models in %s (default %s)\n", len(m.Models), dir, m.DefaultEntry().Name)
	return nil
}
