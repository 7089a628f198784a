package dataset_test

import (
	"fmt"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
)

// A user's points, standardised per coordinate, with a tenth held out by seed.
func ExampleReadCSV() {
	csv := "x,y\n1,5\n2,5\n3,5\n4,5\n5,5\n6,5\n7,5\n8,5\n9,5\n10,5\n"
	x, d, err := dataset.ReadCSV(strings.NewReader(csv), "points.csv", dataset.ReadOptions{})
	if err != nil {
		panic(err)
	}
	train, held, _ := dataset.Split(x, d, 1)
	mean, std, _ := dataset.Standardize(train, d)
	fmt.Println(len(x)/d, "rows of", d, "→", len(train)/d, "to train on,", len(held)/d, "held out")
	fmt.Printf("column y: mean %g, std %g (constant: kept so)\n", mean[1], std[1])

	_, _, err = dataset.ReadCSV(strings.NewReader("1,2\n3,oops\n"), "points.csv", dataset.ReadOptions{})
	fmt.Println(err)
	// Output:
	// 10 rows of 2 → 9 to train on, 1 held out
	// column y: mean 5, std 0 (constant: kept so)
	// points.csv:2: column 2: "oops" is not a number
}
