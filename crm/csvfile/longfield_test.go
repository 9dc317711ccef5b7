package csvfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/plans"
)

// readNotes reads notes.csv (id,email,note) with the csv system settings in extra (", key: value").
func readNotes(t *testing.T, content string, extra string) readResult {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.csv"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	y := fmt.Sprintf("name: t\nsystems:\n  old: {kind: csv, dir: %q%s}\nobjects:\n  contact:\n    key: email\n"+
		"    old: {file: notes.csv, id: id}\n    fields:\n      email: {type: email, old: email}\n      note: {type: text, old: note}\n", dir, extra)
	p, err := plans.Parse(filepath.Join(dir, "plan.yaml"), []byte(y), nil)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, y)
	}
	return readObject(t, p, "contact")
}

// noteLines is a quoted note of n lines; one of them looks exactly like a record of the file.
func noteLines(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i == n/2 {
			b.WriteString("99,injected@evil.example,Injected Person,070\n")
			continue
		}
		fmt.Fprintf(&b, "line %d of the call notes, with a comma, and \"\"quoted\"\" words\n", i)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// A quoted field of any number of lines is one value: the lines inside it never become records
// (a note of more than 1,000 lines used to be taken for an unclosed quote and its lines read as
// records, an injected one among them).
func TestLongQuotedFieldIsReadWholeAndNeverFabricatesRecords(t *testing.T) {
	t.Parallel()
	for _, lines := range []int{2, 1000, 1001, 5000, 200_000} { // 200k lines: about 12 MB
		t.Run(fmt.Sprint(lines), func(t *testing.T) {
			note := noteLines(lines)
			content := "id,email,note\n1,a@x.se,short\n2,b@x.se,\"" + note + "\"\n3,c@x.se,after\n"
			res := readNotes(t, content, "")
			if len(res.rejects) != 0 {
				t.Fatalf("%d rejects, first %+v", len(res.rejects), res.rejects[0])
			}
			if len(res.recs) != 3 {
				t.Fatalf("read %d records, want 3", len(res.recs))
			}
			want := strings.ReplaceAll(note, `""`, `"`)
			if got := res.recs[1].Values[1]; got != want {
				t.Fatalf("the note is not read whole: %d bytes, want %d", len(got), len(want))
			}
			if r := res.recs[2]; r.ID != "3" || r.Line != int64(lines)+3 {
				t.Fatalf("the record after the note: id %s line %d, want 3 at line %d", r.ID, r.Line, lines+3)
			}
		})
	}
}

// Past the record limit (max_record_mb), a record is one reject with the real reason and the lines
// it spans; the lines inside its field are skipped, and the records after it are read.
func TestRecordOverTheLimitIsOneRejectWithTheRealReason(t *testing.T) {
	t.Parallel()
	note := noteLines(40_000) // about 2.4 MB
	content := "id,email,note\n1,a@x.se,short\n2,b@x.se,\"" + note + "\"\n3,c@x.se,after\n"
	res := readNotes(t, content, ", max_record_mb: 1")
	if len(res.rejects) != 1 {
		t.Fatalf("%d rejects, want 1: %+v", len(res.rejects), res.rejects[:min(3, len(res.rejects))])
	}
	rj := res.rejects[0]
	wantReason := "record over the 1 MB limit: a quoted field opened on line 3 closes only on line 40002"
	if rj.Line != 3 || !strings.Contains(rj.Reason, wantReason) || !strings.Contains(rj.Reason, "max_record_mb") {
		t.Fatalf("reject: line %d, %q; want line 3, %q", rj.Line, rj.Reason, wantReason)
	}
	if len(res.recs) != 2 || res.recs[0].ID != "1" || res.recs[1].ID != "3" || res.recs[1].Line != 40003 {
		t.Fatalf("records around the reject: %+v", res.recs)
	}

	// A stray quote that never closes, followed by more than the limit of records without quotes:
	// the line with the quote is rejected alone, and every record after it is read.
	var rest strings.Builder
	for i := 0; i < 30_000; i++ {
		fmt.Fprintf(&rest, "%d,p%d@x.se,an ordinary note without any quote character in it at all\n", 10+i, i)
	}
	res = readNotes(t, "id,email,note\n1,a@x.se,short\n2,b@x.se,\"unclosed\n"+rest.String(), ", max_record_mb: 1")
	if len(res.rejects) != 1 || res.rejects[0].Line != 3 || !strings.Contains(res.rejects[0].Reason, "never closes") {
		t.Fatalf("a stray quote over the limit: rejects %+v", res.rejects[:min(3, len(res.rejects))])
	}
	if len(res.recs) != 30_001 || res.recs[1].ID != "10" || res.recs[30_000].ID != "30009" || res.recs[30_000].Line != 30_003 {
		t.Fatalf("a stray quote over the limit: %d records (want 30001), the first after it %+v", len(res.recs), res.recs[min(1, len(res.recs)-1)])
	}

	// One physical line over the limit.
	res = readNotes(t, "id,email,note\n1,a@x.se,"+strings.Repeat("x", 3<<20)+"\n2,b@x.se,fine\n", ", max_record_mb: 1")
	if len(res.rejects) != 1 || res.rejects[0].Line != 2 || !strings.Contains(res.rejects[0].Reason, "longer than the 1 MB record limit") ||
		len(res.recs) != 1 || res.recs[0].ID != "2" {
		t.Fatalf("a line over the limit: %d records, rejects %+v", len(res.recs), res.rejects)
	}
}

func TestMaxRecordMBIsCheckedInThePlan(t *testing.T) {
	t.Parallel()
	y := "name: t\nsystems:\n  old: {kind: csv, dir: x, max_record_mb: 0}\nobjects:\n  contact:\n    key: email\n    old: {file: c.csv, id: id}\n    fields:\n      email: {type: email, old: email}\n"
	_, err := plans.Parse("plan.yaml", []byte(y), nil)
	if err == nil || !strings.Contains(err.Error(), "plan.yaml:3:") || !strings.Contains(err.Error(), "from 1 to 4096") {
		t.Fatalf("max_record_mb: 0: %v", err)
	}
}
