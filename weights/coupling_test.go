package weights

import (
	"slices"
	"strings"
	"testing"
)

func TestCouplings(t *testing.T) {
	if got := Couplings(); !slices.Equal(got, []string{"independent", "ot"}) {
		t.Errorf("Couplings() = %q", got)
	}
	for _, c := range Couplings() {
		if err := CheckCoupling(c); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
	for _, c := range []string{"", "OT", "exact", "independent "} {
		if err := CheckCoupling(c); err == nil || !strings.Contains(err.Error(), "want independent or ot") {
			t.Errorf("%q: %v", c, err)
		}
	}
	// The list is a copy: changing it changes nothing here.
	Couplings()[0] = "x"
	if Couplings()[0] != CouplingIndependent {
		t.Error("Couplings shares its slice")
	}
}
