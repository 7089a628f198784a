package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/flowmatch/flowmatch/outfile"
)

// MaxHeaderSize is the largest JSON header Decode accepts, in bytes (as in the
// safetensors reference implementation). A larger claimed size is refused before
// anything is allocated.
const MaxHeaderSize = 100_000_000

// A FormatError reports that the input is not a valid model file, or that a File is
// not valid for Encode, and says what was wrong.
type FormatError struct {
	File string // the file's name, when known
	Msg  string
}

func (e *FormatError) Error() string {
	if e.File != "" {
		return "weights: " + e.File + ": " + e.Msg
	}
	return "weights: " + e.Msg
}

func errf(format string, a ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, a...)}
}

// entry is one tensor as the header describes it.
type entry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end int
}

// source hands out the input's bytes in order.
type source interface {
	// next returns the next n bytes of the input; what names them in errors.
	next(n int, what string) ([]byte, error)
}

type byteSource struct{ b []byte }

func (s *byteSource) next(n int, what string) ([]byte, error) {
	if n > len(s.b) {
		return nil, errf("truncated: %s needs %d bytes, only %d left", what, n, len(s.b))
	}
	out := s.b[:n:n]
	s.b = s.b[n:]
	return out, nil
}

type readerSource struct{ r io.Reader }

func (s *readerSource) next(n int, what string) ([]byte, error) {
	// Read progressively, so that a claimed size is only ever allocated as the bytes
	// actually arrive.
	const chunk = 1 << 16
	var b []byte
	if n <= chunk {
		b = make([]byte, n)
		k, err := io.ReadFull(s.r, b)
		return s.done(b[:k], n, what, err)
	}
	b, err := io.ReadAll(io.LimitReader(s.r, int64(n)))
	return s.done(b, n, what, err)
}

func (s *readerSource) done(b []byte, n int, what string, err error) ([]byte, error) {
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("weights: reading %s: %w", what, err)
	}
	if len(b) < n {
		return nil, errf("truncated: %s needs %d bytes, only %d left", what, n, len(b))
	}
	return b, nil
}

// Decode reads one model file from r, checking it completely (see FORMAT.md): it never
// panics, allocates in proportion to the bytes actually read, and returns a
// *FormatError saying what was wrong when the input is not a valid file. It reads
// exactly the bytes the file consists of and no further.
func Decode(r io.Reader) (*File, error) {
	return decode(&readerSource{r})
}

// DecodeBytes decodes a model file held in b. Bytes after the end of the tensor data
// are an error. The File does not refer to b.
func DecodeBytes(b []byte) (*File, error) {
	s := &byteSource{b}
	f, err := decode(s)
	if err != nil {
		return nil, err
	}
	if len(s.b) > 0 {
		return nil, errf("%d bytes of trailing data after the last tensor", len(s.b))
	}
	return f, nil
}

func decode(src source) (*File, error) {
	lb, err := src.next(8, "the header length")
	if err != nil {
		return nil, err
	}
	hlen := binary.LittleEndian.Uint64(lb)
	if hlen < 2 || hlen > MaxHeaderSize {
		return nil, errf("header length %d outside [2, %d]: not a safetensors file", hlen, MaxHeaderSize)
	}
	header, err := src.next(int(hlen), "the JSON header")
	if err != nil {
		return nil, err
	}
	md, entries, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	meta, err := unmarshalMeta(md)
	if err != nil {
		return nil, err
	}
	_, spec, err := meta.check()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	shapes := make([][]int, len(entries))
	for i, e := range entries {
		names[i], shapes[i] = e.name, e.shape
	}
	if err := checkTensorSet(spec, names, shapes); err != nil {
		return nil, err
	}
	total, err := layout(entries)
	if err != nil {
		return nil, err
	}
	data, err := src.next(total, "the tensor data")
	if err != nil {
		return nil, err
	}
	f := &File{Meta: meta, Tensors: make([]Tensor, len(entries))}
	for i, e := range entries {
		t := Tensor{Name: e.name, DType: e.dtype, Shape: e.shape}
		t.Data = make([]float32, (e.end-e.begin)/e.dtype.Size())
		if k := e.dtype.values(t.Data, data[e.begin:e.end]); k >= 0 {
			return nil, errf("tensor %q: value %d (%s) is %v", e.name, k, index(e.shape, k), t.Data[k])
		}
		f.Tensors[i] = t
	}
	return f, nil
}

// layout sorts the entries by offset and checks that they tile the data buffer:
// starting at 0, contiguous, no overlaps or holes, each aligned to its dtype and as
// long as its shape says. It returns the buffer's length.
func layout(entries []entry) (int, error) {
	slices.SortFunc(entries, func(a, b entry) int {
		if a.begin != b.begin {
			return a.begin - b.begin
		}
		return a.end - b.end
	})
	next := 0
	for _, e := range entries {
		size := e.dtype.Size()
		n := 1
		for _, d := range e.shape {
			if d != 0 && n > math.MaxInt32/d {
				return 0, errf("tensor %q: shape %v is too large", e.name, e.shape)
			}
			n *= d
		}
		if e.end-e.begin != n*size {
			return 0, errf("tensor %q: data_offsets [%d, %d] hold %d bytes, but %s %v needs %d",
				e.name, e.begin, e.end, e.end-e.begin, e.dtype, e.shape, n*size)
		}
		switch {
		case e.begin < next:
			return 0, errf("tensor %q: data_offsets [%d, %d] overlap the tensor before it, which ends at %d", e.name, e.begin, e.end, next)
		case e.begin > next && next == 0:
			return 0, errf("tensor %q: data_offsets [%d, %d]: the first tensor must begin at 0", e.name, e.begin, e.end)
		case e.begin > next:
			return 0, errf("tensor %q: data_offsets [%d, %d] leave a hole: the tensor before it ends at %d", e.name, e.begin, e.end, next)
		case e.begin%size != 0:
			return 0, errf("tensor %q: data_offsets [%d, %d]: offset %d is not aligned to %s's %d bytes", e.name, e.begin, e.end, e.begin, e.dtype, size)
		}
		next = e.end
	}
	return next, nil
}

// parseHeader reads the JSON header: the __metadata__ string map (nil if absent) and
// the tensor entries, in header order. Duplicate keys are errors.
func parseHeader(h []byte) (map[string]string, []entry, error) {
	if !utf8.Valid(h) {
		return nil, nil, errf("the JSON header is not valid UTF-8")
	}
	if h[0] != '{' {
		return nil, nil, errf("the JSON header does not start with '{': not a safetensors file")
	}
	dec := json.NewDecoder(bytes.NewReader(h))
	dec.UseNumber()
	bad := func(err error) error { return errf("the JSON header: %v", err) }
	if _, err := dec.Token(); err != nil {
		return nil, nil, bad(err)
	}
	var md map[string]string
	var entries []entry
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, bad(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, errf("the JSON header: a key is not a string")
		}
		if seen[key] {
			return nil, nil, errf("the JSON header has the key %q twice", key)
		}
		seen[key] = true
		if key == "__metadata__" {
			if md, err = parseStringMap(dec); err != nil {
				return nil, nil, err
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, bad(err)
		}
		e, err := parseEntry(key, raw)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, bad(err)
	}
	// Only space padding may follow the object.
	for _, c := range h[dec.InputOffset():] {
		if c != ' ' {
			return nil, nil, errf("the JSON header has %q after its closing brace (only spaces may pad it)", c)
		}
	}
	return md, entries, nil
}

// parseStringMap reads a JSON object whose values are all strings, as safetensors
// requires of __metadata__.
func parseStringMap(dec *json.Decoder) (map[string]string, error) {
	bad := func(err error) error { return errf("__metadata__: %v", err) }
	tok, err := dec.Token()
	if err != nil {
		return nil, bad(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errf("__metadata__ is not a JSON object")
	}
	md := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errf("__metadata__: a key is not a string")
		}
		if _, dup := md[key]; dup {
			return nil, errf("__metadata__ has the key %q twice", key)
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, bad(err)
		}
		v, ok := tok.(string)
		if !ok {
			return nil, errf("__metadata__ %q is not a string (safetensors metadata values are strings)", key)
		}
		md[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad(err)
	}
	return md, nil
}

func parseEntry(name string, raw json.RawMessage) (entry, error) {
	var v struct {
		DType       string        `json:"dtype"`
		Shape       []json.Number `json:"shape"`
		DataOffsets []json.Number `json:"data_offsets"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return entry{}, errf("tensor %q: %v", name, err)
	}
	e := entry{name: name, dtype: DType(v.DType)}
	if !e.dtype.valid() {
		return e, errf("tensor %q: dtype %q not supported (want F32, F16 or BF16)", name, v.DType)
	}
	if v.Shape == nil {
		return e, errf("tensor %q: no shape", name)
	}
	for _, s := range v.Shape {
		d, err := strconv.ParseInt(string(s), 10, 32)
		if err != nil || d < 0 {
			return e, errf("tensor %q: shape %v: %q is not a dimension", name, v.Shape, s)
		}
		e.shape = append(e.shape, int(d))
	}
	if len(v.DataOffsets) != 2 {
		return e, errf("tensor %q: data_offsets has %d entries, want 2", name, len(v.DataOffsets))
	}
	var off [2]int
	for i, s := range v.DataOffsets {
		o, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil || o < 0 || o > math.MaxInt32*8 {
			return e, errf("tensor %q: data_offsets %v: %q is not an offset", name, v.DataOffsets, s)
		}
		off[i] = int(o)
	}
	if off[0] > off[1] {
		return e, errf("tensor %q: data_offsets [%d, %d] end before they begin", name, off[0], off[1])
	}
	e.begin, e.end = off[0], off[1]
	return e, nil
}

// Encode writes f to w with every tensor stored as dtype. It validates f first (see
// [File.Validate]) and writes nothing if f is not valid or a value does not fit dtype
// (float16 holds magnitudes up to 65504). The output is deterministic: the same File
// and dtype give the same bytes.
func Encode(w io.Writer, f *File, dtype DType) error {
	b, err := Marshal(f, dtype)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Marshal returns the encoding of f with every tensor stored as dtype (see [Encode]).
func Marshal(f *File, dtype DType) ([]byte, error) {
	if !dtype.valid() {
		return nil, errf("dtype %q not supported (want F32, F16 or BF16)", dtype)
	}
	if _, _, err := f.check(); err != nil {
		return nil, err
	}
	md, err := f.Meta.marshal()
	if err != nil {
		return nil, err
	}
	var h bytes.Buffer
	mb, err := json.Marshal(md) // map keys come out sorted
	if err != nil {
		return nil, errf("__metadata__: %v", err)
	}
	h.WriteString(`{"__metadata__":`)
	h.Write(mb)
	size := dtype.Size()
	off := 0
	for _, t := range f.Tensors {
		nb, _ := json.Marshal(t.Name)
		sb, _ := json.Marshal(t.Shape)
		n := len(t.Data) * size
		fmt.Fprintf(&h, `,%s:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, nb, dtype, sb, off, off+n)
		off += n
	}
	h.WriteByte('}')
	// Pad with spaces so that the data starts 8-byte aligned, as safetensors does.
	for (8+h.Len())%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > MaxHeaderSize {
		return nil, errf("the JSON header would be %d bytes, more than %d", h.Len(), MaxHeaderSize)
	}
	out := make([]byte, 8+h.Len()+off)
	binary.LittleEndian.PutUint64(out, uint64(h.Len()))
	copy(out[8:], h.Bytes())
	p := out[8+h.Len():]
	for _, t := range f.Tensors {
		n := len(t.Data) * size
		if k := dtype.putValues(p[:n], t.Data); k >= 0 {
			return nil, errf("tensor %q: value %d (%s) = %v does not fit in %s", t.Name, k, index(t.Shape, k), t.Data[k], dtype)
		}
		p = p[n:]
	}
	return out, nil
}

// ReadFile reads and decodes the model file at path, which must hold the file and
// nothing after it. A regular file is read whole (its size bounds the allocation);
// anything else (a pipe, a device) is decoded as it streams in. Errors about the
// contents are *FormatError with File set to path.
func ReadFile(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	var f *File
	if st, serr := fd.Stat(); serr == nil && st.Mode().IsRegular() {
		b, rerr := io.ReadAll(fd)
		if rerr != nil {
			return nil, rerr
		}
		f, err = DecodeBytes(b)
	} else {
		f, err = Decode(fd)
		if err == nil {
			if n, _ := fd.Read(make([]byte, 1)); n > 0 {
				err = errf("trailing data after the last tensor")
			}
		}
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		fe.File = path
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// WriteFile encodes f with every tensor stored as dtype and writes it to path as
// package outfile does. A regular file (or a new one) is written atomically: into a
// temporary file in the same folder, then renamed over path, so that readers see the
// old file or the new one, never a part. A device or FIFO is written through, a
// symlink's target is written and the link kept, and a folder is refused. An f that
// does not encode writes nothing.
func WriteFile(path string, f *File, dtype DType) error {
	b, err := Marshal(f, dtype)
	if err != nil {
		return err
	}
	return outfile.WriteFile(path, b)
}
