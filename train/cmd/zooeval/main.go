// Command zooeval measures model files against their datasets: W2 of 2,000 samples
// (20-NFE midpoint) over the data-vs-data floor and over the i.i.d. floor, averaged
// over seeds (see internal/quality for why both).
//
//	go run ./cmd/zooeval ../weights/*.safetensors
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/train/internal/quality"
	"github.com/flowmatch/flowmatch/weights"
)

func main() {
	seeds := flag.Int("seeds", 4, "seeds to average over")
	n := flag.Int("n", 2000, "points per set")
	nfe := flag.Int("nfe", 20, "midpoint evaluations")
	flag.Parse()
	fmt.Printf("%-22s %8s %8s %6s %8s %6s  %s\n", "model", "W2", "floor", "ratio", "iid", "ratio", "size")
	for _, path := range flag.Args() {
		f, err := weights.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "zooeval:", err)
			os.Exit(1)
		}
		if f.Meta.Arch != weights.ArchMLP {
			// The image U-Net and its classifier are judged by flowmatch eval, not by W2.
			fmt.Printf("%-22s skipped: arch %q is not a model of points (flowmatch eval judges images)\n", filepath.Base(path), f.Meta.Arch)
			continue
		}
		r, err := quality.Measure(f, *n, *seeds, sampler.Options{Method: sampler.Midpoint, Steps: *nfe / 2})
		if err != nil {
			fmt.Fprintln(os.Stderr, "zooeval:", path, err)
			os.Exit(1)
		}
		fi, _ := os.Stat(path)
		fmt.Printf("%-22s %8.4f %8.4f %6.2f %8.4f %6.2f  %d\n", filepath.Base(path), r.W2, r.Floor, r.Ratio(), r.IIDFloor, r.IIDRatio(), fi.Size())
	}
}
