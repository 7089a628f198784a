package weights

import (
	"encoding/json"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
)

// ArchUNet is the "arch" of a class-conditional U-Net for images, [unet.Net] with
// [unet.Config] as its spec (FORMAT.md's "model for arch unet"). Files of this kind
// are format version 2 or later.
const ArchUNet = "unet"

// UNetSpec is the "unet" kind's spec: put a pointer to one in [Meta.Net] (with
// Meta.Arch ArchUNet) to write a U-Net's file. Its JSON form, the "model" metadata, is
// the Config's, every field written out.
type UNetSpec struct{ Config unet.Config }

func (u *UNetSpec) Arch() string    { return ArchUNet }
func (u *UNetSpec) Dim() int        { return u.Config.Dim() }
func (u *UNetSpec) Validate() error { return u.Config.Validate() }
func (u *UNetSpec) String() string  { return u.Config.String() }

// Tensors are [unet.Config.Tensors]: PyTorch state_dict names and layouts.
func (u *UNetSpec) Tensors() []TensorSpec {
	ts := u.Config.Tensors()
	out := make([]TensorSpec, len(ts))
	for i, t := range ts {
		out[i] = TensorSpec{t.Name, t.Shape}
	}
	return out
}

// Build makes the network: a *unet.Net, whose Velocity is the unconditional field
// v(x, t, ∅); wrap it in a [unet.Guided] to condition it on classes.
func (u *UNetSpec) Build(tensors map[string][]float32) (sampler.Field, error) {
	net, err := unet.New(u.Config, tensors)
	if err != nil {
		return nil, err
	}
	return net, nil
}

func (u *UNetSpec) MarshalJSON() ([]byte, error) { return json.Marshal(u.Config) }

// UnmarshalJSON decodes strictly: an unknown field is an error.
func (u *UNetSpec) UnmarshalJSON(b []byte) error { return strictJSON(string(b), &u.Config) }
