package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// IDX limits: Fashion-MNIST's files are 60,000×28×28 at most, so these bounds refuse a
// hostile header before it sizes an allocation, with room for MNIST-like sets 16× as big.
const (
	idxMaxItems = 1 << 20 // items (the first dimension)
	idxMaxSide  = 1024    // each further dimension
	idxMaxBytes = 1 << 30 // all values together
)

// IDX is the content of one idx file of unsigned bytes (LeCun's MNIST format): Dims[0]
// items, each the product of the other dimensions in values, row-major in Data.
type IDX struct {
	Dims []int
	Data []byte
}

// ReadIDXFile reads a gzip-compressed idx file of unsigned bytes, such as Debian's
// /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz. Errors name the file.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	return ReadIDX(f, path)
}

// ReadIDX reads a gzip-compressed idx file of unsigned bytes from r; name is what error
// messages call it. The magic number must say unsigned bytes (0x08) with 1 to 4
// dimensions, every dimension must be in bounds, the data must be complete, and nothing
// may follow it.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	zr, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: not gzip data: %w", name, err)
	}
	defer zr.Close()
	dims, err := readIDXHeader(zr, name)
	if err != nil {
		return nil, err
	}
	size := 1
	for _, d := range dims {
		size *= d
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(zr, data); err != nil {
		return nil, fmt.Errorf("dataset: %s: data shorter than its dimensions %v say: %w", name, dims, err)
	}
	// Reading on to the end also checks the gzip trailer (CRC and length).
	rest, err := io.ReadAll(io.LimitReader(zr, 1))
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", name, err)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("dataset: %s: bytes after the %d values its dimensions %v say", name, size, dims)
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// readIDXHeader reads and checks the magic number and the dimensions.
func readIDXHeader(r io.Reader, name string) ([]int, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("dataset: %s: no idx magic number: %w", name, err)
	}
	if magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 {
		return nil, fmt.Errorf("dataset: %s: magic number % x is not an idx file of unsigned bytes (00 00 08 nd)", name, magic)
	}
	nd := int(magic[3])
	if nd < 1 || nd > 4 {
		return nil, fmt.Errorf("dataset: %s: %d dimensions, want 1 to 4", name, nd)
	}
	raw := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("dataset: %s: header cut short in its %d dimensions: %w", name, nd, err)
	}
	dims, size := make([]int, nd), 1
	for i := range dims {
		d := binary.BigEndian.Uint32(raw[4*i:])
		limit := uint32(idxMaxSide)
		if i == 0 {
			limit = idxMaxItems
		}
		if d < 1 || d > limit {
			return nil, fmt.Errorf("dataset: %s: dimension %d is %d, want 1 to %d", name, i, d, limit)
		}
		dims[i] = int(d)
		size *= int(d)
		if size > idxMaxBytes {
			return nil, fmt.Errorf("dataset: %s: dimensions %v hold more than %d values", name, dims[:i+1], idxMaxBytes)
		}
	}
	return dims, nil
}
