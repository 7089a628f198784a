// Package imagegrid draws a set of one-channel images as one grey PNG: a row per class
// with the class names in a left margin (image i in row i mod classes), or a near-square
// grid filled row by row. `flowmatch sample -o grid.png` and `flowmatch report`'s image
// grids both draw with it, so the two look alike.
package imagegrid
