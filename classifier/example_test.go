package classifier_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/classifier"
)

// Load the shipped Fashion-MNIST classifier and classify an image: intensities in
// [0, 1], row-major, image after image (here one blank image).
func Example() {
	net, err := classifier.Load("../weights/fashion-classifier.safetensors")
	if err != nil {
		fmt.Println(err)
		return
	}
	spec := net.Spec()
	fmt.Println(spec.String())
	fmt.Println(len(net.Classes()), "classes, from", net.Classes()[0], "to", net.Classes()[9])
	blank := make([]float32, net.Dim())
	fmt.Println(len(net.Features(blank)), "features,", len(net.Predict(blank)), "prediction")
	// Output:
	// classifier 28×28 conv [32 64] → 128 → 10 classes
	// 10 classes, from T-shirt/top to Ankle boot
	// 128 features, 1 prediction
}
