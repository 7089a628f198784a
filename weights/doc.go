// Package weights reads and writes flowmatch model files: one compact, self-describing
// file per trained velocity network, from which the pure-Go sampler (natively or in
// WebAssembly) rebuilds the model with nothing else at hand.
//
// A model file is a safetensors file (an 8-byte little-endian header length, a JSON
// header, raw little-endian tensor data), so standard safetensors tooling opens it. Its
// __metadata__ holds the network's kind ("arch") and shape, the probability path and
// the time range it was trained on, the data it generates (dataset, dimension, shape,
// classes, normalization) and how it was made. FORMAT.md in this directory is the
// specification.
//
// # Network kinds
//
// Each kind of network is a [Spec]: the file's "model" metadata for its arch, which
// lists the tensors such a file holds ([Spec.Tensors]) and builds the network from them
// ([Spec.Build]). [ArchMLP] is the only kind so far; a file without an arch is one.
// [Meta.Arch] names a file's kind and [Meta.Spec] gives its spec: an MLP's is
// [Meta.Model], another kind's [Meta.Net]. [Archs] lists the kinds; adding one is a type
// and a case in one function (see arch.go and FORMAT.md).
//
// Tensors are stored as float32, float16 or bfloat16; decoding always gives float32.
// A float16 file is about half the size of its float32 twin.
//
// # Reading
//
// [Decode], [DecodeBytes] and [ReadFile] check a file completely before returning it, and
// are safe on hostile input: they never panic, allocate only in proportion to the input
// they are given, and report what was wrong in a [*FormatError]. Then [File.Field]
// gives the network, of whatever kind, and the path ([File.Model] gives an MLP as a
// [*sampler.MLP]), and [File.Sample] draws points.
//
// # Writing
//
// [NewFile] assembles a File from an MLP's parameters (PyTorch layout) and [Meta], and
// [NewFileTensors] from any network's tensors by name; [Encode], [Marshal] and
// [WriteFile] (atomic) write it with a chosen [DType], as the lowest format version
// that describes it ([Meta.Version]): version 1 for an MLP without a data shape or
// classes, which every reader reads. The output is deterministic, and whatever they
// write, Decode reads back.
//
// [Float16Bits], [Float16FromBits], [BFloat16Bits] and [BFloat16FromBits] convert single
// values, rounding to nearest with ties to even.
package weights
