// Package weights reads and writes flowmatch model files: one compact, self-describing
// file per trained velocity network, from which the pure-Go sampler (natively or in
// WebAssembly) rebuilds the model with nothing else at hand.
//
// A model file is a safetensors file (an 8-byte little-endian header length, a JSON
// header, raw little-endian tensor data), so standard safetensors tooling opens it. Its
// __metadata__ holds the network's shape, the probability path and the time range it was
// trained on, the data it generates (dataset, dimension, normalization) and how it was
// made. FORMAT.md in this directory is the specification.
//
// Tensors are stored as float32, float16 or bfloat16; decoding always gives float32.
// A float16 file is about half the size of its float32 twin.
//
// # Reading
//
// [Decode], [DecodeBytes] and [ReadFile] check a file completely before returning it, and
// are safe on hostile input: they never panic, allocate only in proportion to the input
// they are given, and report what was wrong in a [*FormatError]. Then [File.Model] gives
// the network and path, and [File.Sample] draws points.
//
// # Writing
//
// [NewFile] assembles a File from a network's parameters (PyTorch layout) and [Meta];
// [Encode], [Marshal] and [WriteFile] (atomic) write it with a chosen [DType]. The output
// is deterministic, and whatever they write, Decode reads back.
//
// [Float16Bits], [Float16FromBits], [BFloat16Bits] and [BFloat16FromBits] convert single
// values, rounding to nearest with ties to even.
package weights
