// Package npy reads and writes NumPy's .npy files (numpy.lib.format), the arrays that
// flowmatch exchanges with Python: points (n×d float32), image samples (n×28×28
// float32) and their labels (n int64).
//
// A file is the magic "\x93NUMPY", a major and minor version byte, the header's length
// (2 bytes little-endian in version 1, 4 in versions 2 and 3), the header (a Python dict
// literal of 'descr', 'fortran_order' and 'shape', padded with spaces to a newline), then
// the array's values. This package reads the header of any version and leaves the
// values to its callers, which check them as they read (package dataset streams points
// with their row and column in its errors); it writes version 1.0, little-endian, C
// order, the header padded so the data start on a 64-byte boundary as NumPy writes it.
package npy
