package outfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowmatch/flowmatch/outfile"
)

func Example() {
	dir, _ := os.MkdirTemp("", "outfile")
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "samples.csv")

	if err := outfile.Check(out); err != nil { // before the long work: a folder or a missing parent fails here
		fmt.Println(err)
		return
	}
	f, err := outfile.Create(out)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Abort() // on any error below, the old file (if any) stays as it was
	fmt.Fprintln(f, "x0,x1")
	fmt.Fprintln(f, "0.5,-1")
	if err := f.Commit(); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(out)
	fmt.Print(string(b))
	_, err = outfile.Create(filepath.Join(dir, "no", "such.csv"))
	fmt.Println(err != nil)
	// Output:
	// x0,x1
	// 0.5,-1
	// true
}
