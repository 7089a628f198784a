package weights

import "strings"

// RecordedCommand is the command line a model file records as provenance.command for
// `flowmatch SUB ARGS…` (args without the program and SUB). Files get published, so it
// names no place on the machine that made them: the program is just "flowmatch", and
// every argument or flag value holding a / or \ (`-o /tmp/x.safetensors`,
// `-data=/home/ann/p.csv`, a Windows path) is reduced to its base name. Run from the
// folder that should hold the files, the command reproduces the model. Arguments are
// quoted for a POSIX shell where needed.
func RecordedCommand(sub string, args []string) string {
	out := []string{"flowmatch", sub}
	for _, a := range args {
		if name, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(name, "-") {
			a = name + "=" + reducePath(v)
		} else {
			a = reducePath(a)
		}
		out = append(out, shellQuote(a))
	}
	return strings.Join(out, " ")
}

func reducePath(v string) string {
	if !strings.ContainsAny(v, `/\`) {
		return v
	}
	q := strings.TrimRight(v, `/\`)
	if q == "" {
		return v
	}
	return q[strings.LastIndexAny(q, `/\`)+1:]
}

// shellQuote quotes s for a POSIX shell where it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
