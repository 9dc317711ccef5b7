package clean

import (
	"errors"
	"strings"
)

// Counts are the figures stored with the clean run: records read and rejected, and per object
// the golden records and the pairs waiting for review.
func (s *Summary) Counts() map[string]int64 {
	c := map[string]int64{"read": s.Read, "rejected": s.Rejected}
	for _, o := range s.Objects {
		c[o.Object+".golden"] = o.Golden
		c[o.Object+".review"] = o.Review
	}
	return c
}

// Failed is nil when the clean passed its own checks (the reject rate), and otherwise says why
// not.
func (s *Summary) Failed() error {
	if s.Passed {
		return nil
	}
	if len(s.Problems) == 0 {
		return errors.New("clean did not pass")
	}
	return errors.New(strings.Join(s.Problems, "; "))
}
