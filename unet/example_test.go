package unet_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
)

// A guided U-Net integrated by the sampler's solvers: here with all-zero weights, so
// every velocity is zero and the noise comes back unchanged.
func Example() {
	cfg := unet.Default()
	tensors := map[string][]float32{}
	for _, t := range cfg.Tensors() {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		tensors[t.Name] = make([]float32, n)
	}
	net, err := unet.New(cfg, tensors)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Two samples of classes 3 and 7 (Dress, Sneaker), guidance 1.
	var field sampler.Field = &unet.Guided{Net: net, Labels: []int{3, 7}, W: 1}
	x := make([]float32, 2*field.Dim())
	x[0] = 0.5
	st, err := sampler.Solve(field, x, sampler.Options{Method: sampler.Midpoint, Steps: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg, field.Dim(), st.NFE, x[0])
	fmt.Printf("%.1f M multiply-adds, %d bytes as float16\n", float64(cfg.MACs())/1e6, cfg.Float16Bytes())
	// Output:
	// unet 1×28×28 C16 ×[1 2 2] b1 g8 t16 e64 10+1 classes 784 4 0.5
	// 23.6 M multiply-adds, 290754 bytes as float16
}
