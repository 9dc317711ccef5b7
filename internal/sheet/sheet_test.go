package sheet

import (
	"bytes"
	"encoding/csv"
	"testing"
)

func TestCellNeutralizesFormulasAndUncellRestoresThem(t *testing.T) {
	t.Parallel()
	type testcase struct{ in, want string }
	for _, tc := range []testcase{
		{"=HYPERLINK(\"http://evil.example\",\"click\")", "'=HYPERLINK(\"http://evil.example\",\"click\")"},
		{"+46 70 123 45 67", "'+46 70 123 45 67"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"plain", "plain"},
		{"", ""},
		{"'quoted already", "'quoted already"},
		{"a=b", "a=b"},
	} {
		if got := Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := Uncell(Cell(tc.in)); got != tc.in {
			t.Errorf("Uncell(Cell(%q)) = %q", tc.in, got)
		}
	}
}

func TestWriterNeutralizesEveryCell(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w := NewWriter(&b)
	if err := w.Write([]string{"id", "=cmd|' /C calc'!A0", "-1"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rec, err := csv.NewReader(&b).Read()
	if err != nil {
		t.Fatal(err)
	}
	if rec[0] != "id" || rec[1] != "'=cmd|' /C calc'!A0" || rec[2] != "'-1" {
		t.Fatalf("written: %q", rec)
	}
}
