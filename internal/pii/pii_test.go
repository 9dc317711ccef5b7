package pii

import "testing"

func TestMask(t *testing.T) {
	type testcase struct{ typ, in, want string }
	for _, tc := range []testcase{
		{"email", "jane.doe@acme.se", "j***@acme.se"},
		{"email", "åsa@x.se", "å***@x.se"},
		{"email", "not an email", "n***"},
		{"email", "", ""},
		{"phone", "+33612345678", "+336******78"},
		{"phone", "+33 6 12 34 56 78", "+33 6 ** ** ** 78"},
		{"phone", "06 12 34 56 78", "06 ** ** ** 78"},
		{"phone", "+14155552671;ext=12", "+14*******71;ext=12"},
		{"phone", "123", "***"},
		{"text", "Acme AB", "Acme AB"},
	} {
		if got := Mask(tc.typ, tc.in); got != tc.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", tc.typ, tc.in, got, tc.want)
		}
	}
}
