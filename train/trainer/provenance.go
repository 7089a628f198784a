package trainer

import (
	"slices"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
)

// provenanceCommand is the command line a model file records (provenance.command) for
// `flowmatch train` run with args (the arguments after "train"). Files get published,
// so it names no place on the training machine: the program is just "flowmatch", and
// every path is reduced to its base name, with no directories, home or temporary folders.
// Run from the folder that should receive the files, the command reproduces the model
// (the output's and checkpoint's folders do not change the training).
//
// The values reduced: those of -o and -ckpt; that of -data when it names a file rather
// than a built-in dataset; any other argument or flag value holding a / or \ (in the
// "-flag value" and "-flag=value" forms alike, with one or two dashes).
func provenanceCommand(args []string) string {
	out := make([]string, len(args))
	pending := "" // the flag whose value the next argument is
	flags := true // before "--"
	for i, a := range args {
		switch {
		case pending != "":
			out[i] = provenanceValue(pending, a)
			pending = ""
		case flags && a == "--":
			out[i] = a
			flags = false
		case flags && len(a) > 1 && a[0] == '-':
			name := strings.TrimPrefix(a[1:], "-")
			if eq := strings.IndexByte(name, '='); eq >= 0 {
				out[i] = a[:len(a)-len(name)] + name[:eq+1] + provenanceValue(name[:eq], name[eq+1:])
				break
			}
			out[i] = a
			switch name {
			case "o", "ckpt", "data": // flags whose value is the next argument
				pending = name
			}
		default:
			out[i] = provenanceValue("", a)
		}
	}
	return strings.TrimSpace("flowmatch train " + shellJoin(out))
}

// provenanceValue is the value v of flag name ("" for an argument that is no flag's
// value) as provenanceCommand records it.
func provenanceValue(name, v string) string {
	switch name {
	case "o", "ckpt":
		return baseName(v)
	case "data":
		if slices.Contains(dataset.Names(), v) {
			return v
		}
		return baseName(v)
	}
	if strings.ContainsAny(v, `/\`) {
		return baseName(v)
	}
	return v
}

// baseName is the last element of path p, whether its separators are / or \ (a path
// written on Windows is reduced the same way anywhere). A path of separators only,
// or an empty one, is returned as it is.
func baseName(p string) string {
	q := strings.TrimRight(p, `/\`)
	if q == "" {
		return p
	}
	return q[strings.LastIndexAny(q, `/\`)+1:]
}
