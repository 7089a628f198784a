package weights

import "fmt"

// Couplings of noise and data in training, as [Provenance.Coupling] records them: I-CFM
// draws each noise point and data point independently; OT-CFM pairs them within each
// minibatch by an exact optimal-transport assignment, which straightens the paths and
// so needs fewer steps to sample. An empty coupling in a file means it was not
// recorded. The trainer and the explorer take these names from here.
const (
	CouplingIndependent = "independent" // I-CFM
	CouplingOT          = "ot"          // OT-CFM
)

// Couplings lists the coupling names, independent first.
func Couplings() []string { return []string{CouplingIndependent, CouplingOT} }

// CheckCoupling reports whether name is a coupling ([Couplings]); the error names the
// ones there are.
func CheckCoupling(name string) error {
	switch name {
	case CouplingIndependent, CouplingOT:
		return nil
	}
	return fmt.Errorf("unknown coupling %q (want %s or %s)", name, CouplingIndependent, CouplingOT)
}
