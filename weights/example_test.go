package weights_test

import (
	"bytes"
	"fmt"
	"log"
	"math/rand/v2"
	"os"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// A trainer turns its parameters into a file: weights in PyTorch's [out][in] layout.
func ExampleNewFile() {
	spec := sampler.MLPSpec{Dim: 2, Hidden: []int{8, 8}}
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		ws = append(ws, make([]float32, sh[0]*sh[1]))
		bs = append(bs, make([]float32, sh[0]))
	}
	f, err := weights.NewFile(weights.Meta{
		Model:      spec,
		Path:       weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data:       weights.DataInfo{Name: "moons"},
		Provenance: weights.Provenance{Command: "flowmatch train -data moons", Steps: 20000, Seed: 1},
	}, ws, bs)
	if err != nil {
		log.Fatal(err)
	}
	var b32, b16 bytes.Buffer
	if err := weights.Encode(&b32, f, weights.F32); err != nil {
		log.Fatal(err)
	}
	if err := weights.Encode(&b16, f, weights.F16); err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.NumParams(), "parameters")
	fmt.Println("float32:", b32.Len(), "bytes; float16:", b16.Len(), "bytes")
	// Output:
	// 122 parameters
	// float32: 1264 bytes; float16: 1020 bytes
}

// The sampler and the browser rebuild the model from the file alone. This file was
// written before "arch" existed; it is an MLP.
func ExampleDecode() {
	r, err := os.Open("testdata/golden-f32.safetensors")
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	f, err := weights.Decode(r)
	if err != nil {
		log.Fatal(err)
	}
	m := f.Meta
	fmt.Printf("arch %s; data %q, dim %d; path %s on [%g, %g]; hidden %v, %s\n",
		m.Arch, m.Data.Name, m.Model.Dim, m.Path.Name, m.Path.TMin, m.Path.TMax, m.Model.Hidden, m.Model.Activation)
	for _, t := range f.Tensors {
		fmt.Println(t.Name, t.DType, t.Shape)
	}
	mlp, path, err := f.Model()
	if err != nil {
		log.Fatal(err)
	}
	v := make([]float32, 2)
	mlp.Velocity(v, []float32{0.5, -0.5}, 0.25)
	fmt.Printf("source N(0, %g²); v([0.5 -0.5], 0.25) = [%.4f %.4f]\n", path.SourceStd(), v[0], v[1])
	// Output:
	// arch mlp; data "golden", dim 2; path ot on [0, 1]; hidden [3], silu
	// layers.0.weight F32 [3 3]
	// layers.0.bias F32 [3]
	// layers.1.weight F32 [2 3]
	// layers.1.bias F32 [2]
	// source N(0, 1²); v([0.5 -0.5], 0.25) = [1.4870 29965.7656]
}

// Any kind of network: the file names its arch, and Field builds it as a sampler.Field.
// This file is version 2, for its data's shape and class names.
func ExampleFile_Field() {
	f, err := weights.ReadFile("testdata/golden-v2-f32.safetensors")
	if err != nil {
		log.Fatal(err)
	}
	spec, err := f.Meta.Spec()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("arch %s, version %d: %s, data shape %v, classes %q\n",
		f.Meta.Arch, f.Meta.Version(), spec, f.Meta.Data.Shape, f.Meta.Data.Classes)
	for _, t := range spec.Tensors() {
		fmt.Println(t.Name, t.Shape)
	}
	net, _, err := f.Field()
	if err != nil {
		log.Fatal(err)
	}
	v := make([]float32, net.Dim())
	net.Velocity(v, []float32{0.5, -0.5}, 0.25)
	fmt.Printf("v([0.5 -0.5], 0.25) = [%.4f %.4f]\n", v[0], v[1])
	// Output:
	// arch mlp, version 2: 3→3→2 silu, data shape [1 2], classes ["inner" "outer"]
	// layers.0.weight [3 3]
	// layers.0.bias [3]
	// layers.1.weight [2 3]
	// layers.1.bias [2]
	// v([0.5 -0.5], 0.25) = [1.4870 29965.7656]
}

// Sampling: noise from the path's source, integrated over the file's time range, mapped
// to data space.
func ExampleFile_Sample() {
	f, err := weights.ReadFile("testdata/golden-f16.safetensors")
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x, st, err := f.Sample(4, rng, sampler.Options{Method: sampler.Midpoint, Steps: 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(x)/f.Meta.Model.Dim, "points, NFE", st.NFE)
	// Output:
	// 4 points, NFE 20
}
