package nodes

import (
	"testing"

	"github.com/clouddrive/clouddrive/internal/filter"
)

func TestLiftParent(t *testing.T) {
	for _, tc := range []struct {
		q, parent, rest string
		ok              bool
	}{
		{"parents:-abc_DEF0123456789xyzAB", "-abc_DEF0123456789xyzAB", "", true},
		{`parents:"P1" AND kind:FOLDER`, "P1", `kind:"FOLDER"`, true},
		{`kind:FILE AND parents:P1 AND name:x*`, "P1", `kind:"FILE" AND name:x*`, true},
		{`parents:P1 OR kind:FILE`, "", "", false},
		{`NOT parents:P1`, "", "", false},
		{`kind:FILE`, "", "", false},
	} {
		e, err := filter.Parse(tc.q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.q, err)
		}
		parent, rest, ok := liftParent(e)
		restS := ""
		if rest != nil {
			restS = rest.String()
		}
		if ok != tc.ok || parent != tc.parent || restS != tc.rest {
			t.Errorf("liftParent(%q) = %q, %q, %v; want %q, %q, %v", tc.q, parent, restS, ok, tc.parent, tc.rest, tc.ok)
		}
	}
}
