// Package classifier is the judge of image models: a small convolutional network that
// classifies one-channel Side×Side images (the shipped one, weights/fashion-classifier.safetensors,
// Fashion-MNIST's ten classes), run in pure Go. `flowmatch eval` scores an image model's
// samples with it: the accuracy against the classes they were drawn for, and the Fréchet
// distance between their penultimate features ([Net.Features]) and the test set's.
//
// The network is [weights.ClassifierSpec]: per level two 3×3 convolutions with ReLU and a
// 2×2 max pool, then Linear → Hidden features → ReLU → Linear → logits. Its input is pixel
// intensities in [0, 1] (black 0, white 1; the file's data "pixels" say so), row-major,
// one image after another. The file is the project's safetensors format with arch
// "classifier" (weights/FORMAT.md); the train module's trainclassifier command trains it
// with libtorch and exports it, and a test there checks this package's forward pass
// against libtorch's.
//
// Convolutions are matrix products on the sampler's gemm kernels (im2col over NHWC
// activations, as package unet does), and a batch is split over goroutines.
package classifier
