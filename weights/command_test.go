package weights

import "testing"

func TestRecordedCommand(t *testing.T) {
	for _, c := range []struct {
		sub  string
		args []string
		want string
	}{
		{"train", nil, "flowmatch train"},
		{"train", []string{"-data", "moons", "-lr", "2e-3", "-o", "/tmp/zoo/moons-ot.safetensors"},
			"flowmatch train -data moons -lr 2e-3 -o moons-ot.safetensors"},
		{"train", []string{"-o=/home/ann/m.safetensors", "--ckpt", `C:\Users\ann\c.ckpt`, "-data=/tmp/x/p q.csv"},
			"flowmatch train -o=m.safetensors --ckpt c.ckpt '-data=p q.csv'"},
		{"import", []string{"-layers", "net.*", "/home/u/x y.safetensors", "-o", "./out/it's.safetensors", "-std", "0.9,0.9"},
			`flowmatch import -layers 'net.*' 'x y.safetensors' -o 'it'\''s.safetensors' -std 0.9,0.9`},
		{"train", []string{"-ckpt", "D:/runs/dir/", "-o", "-", "-o", "/"}, "flowmatch train -ckpt dir -o - -o /"},
	} {
		if got := RecordedCommand(c.sub, c.args); got != c.want {
			t.Errorf("RecordedCommand(%q, %q)\n got %s\nwant %s", c.sub, c.args, got, c.want)
		}
	}
}
