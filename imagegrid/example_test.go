package imagegrid_test

import (
	"fmt"
	"io"

	"github.com/flowmatch/flowmatch/imagegrid"
)

// A row per class: 6 images of 2 classes make 2 rows of 3, the class names in the margin.
func ExampleNew() {
	g := imagegrid.New(6, []string{"T-shirt", "Trouser"}, 28, 28, 2)
	w, h := g.Size()
	fmt.Println(g.Rows, "rows", g.Cols, "columns;", w-g.Margin, "×", h, "pixels after the names")
	if err := g.Encode(io.Discard, make([]float32, 6*28*28)); err != nil {
		fmt.Println(err)
	}
	// Output: 2 rows 3 columns; 176 × 118 pixels after the names
}
