// Command manifest writes models/manifest.json for the explorer: it lists the
// *.safetensors files of a folder that decode into models the explorer can show (2-D
// models with their dataset, path and coupling; image models, kind "image", with their
// images' shape and class names, for the Images mode), by the explorer's one manifest
// builder (explorer.ManifestFromFS: each file's metadata, and what that leaves out from
// its name). make www runs it. A file that is not a valid model file stops it; models
// the explorer cannot show are left out with a line on standard error, and with -prune
// their files are removed from the folder (make www copies every file of weights/, a
// classifier among them, and the site needs only those it lists).
//
//	go run ./cmd/manifest -dir ../www/models [-default NAME] [-prune]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/outfile"
)

func main() {
	dir := flag.String("dir", "www/models", "folder of *.safetensors model files; manifest.json is written there")
	def := flag.String("default", "", "the model shown first, if present (else the first listed); empty: "+explorer.DefaultModel+", the explorer's rule")
	prune := flag.Bool("prune", false, "remove the files it leaves out from the folder")
	flag.Parse()
	if err := run(*dir, *def, *prune); err != nil {
		fmt.Fprintln(os.Stderr, "manifest:", err)
		os.Exit(1)
	}
}

func run(dir, def string, prune bool) error {
	m, skipped := explorer.ManifestFromFS(os.DirFS(dir), def)
	for _, s := range skipped {
		if s.Invalid {
			return fmt.Errorf("%s: %w", filepath.Join(dir, s.File), s.Err)
		}
	}
	for _, s := range skipped {
		fmt.Fprintf(os.Stderr, "manifest: skipping %s: %v\n", filepath.Join(dir, s.File), s.Err)
		if prune {
			if err := os.Remove(filepath.Join(dir, s.File)); err != nil {
				return err
			}
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
	images := 0
	for _, e := range m.Models {
		if e.IsImage() {
			images++
		}
	}
	fmt.Printf("manifest: %d models in %s, %d of them image models (default %s)\n", len(m.Models), dir, images, m.DefaultEntry().Name)
	return nil
}
