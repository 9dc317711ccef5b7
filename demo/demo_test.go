package demo

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/internal/pii"
	"github.com/crmigrate/crmigrate/plans"
)

// tableDigest hashes every generated row of every old-CRM table.
func tableDigest(t testing.TB, o Options) string {
	t.Helper()
	h := sha256.New()
	g := newGen(o)
	for i := range oldSpecs {
		spec := &oldSpecs[i]
		vals := make([]any, len(spec.columns))
		for r := 0; r < spec.count(g); r++ {
			if !spec.fill(g, r, vals, nil) {
				continue
			}
			for _, v := range vals {
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339Nano)
				}
				fmt.Fprintf(h, "%T:%v|", v, v)
			}
			h.Write([]byte{'\n'})
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// filesDigest hashes every file WriteFiles writes.
func filesDigest(t testing.TB, o Options) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := WriteFiles(dir, o); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, f := range Files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	o2 := o
	o2.Seed = 2
	if a, b := tableDigest(t, o), tableDigest(t, o); a != b {
		t.Errorf("same options, different tables: %s vs %s", a, b)
	}
	if a, b := tableDigest(t, o), tableDigest(t, o2); a == b {
		t.Errorf("seeds 1 and 2 generate the same tables")
	}
	if a, b := filesDigest(t, o), filesDigest(t, o); a != b {
		t.Errorf("same options, different files: %s vs %s", a, b)
	}
	if a, b := filesDigest(t, o), filesDigest(t, o2); a == b {
		t.Errorf("seeds 1 and 2 write the same files")
	}
	// Random access gives the same rows as a sequential pass (the e-mail memo is only a cache).
	g1, g2 := newGen(o), newGen(o)
	var seq, rnd contactRec
	for r := 0; r < g1.lay.N; r++ {
		g1.contactAt(r, &seq)
		g2.contactAt(g2.lay.N-1-r, &rnd) // warm g2 out of order
		g2.contactAt(r, &rnd)
		if seq != rnd {
			t.Fatalf("contact row %d differs between sequential and random access:\n%+v\n%+v", r, seq, rnd)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		o       Options
		wantErr string
	}{
		{name: "default", o: DefaultOptions()},
		{name: "empty", o: Options{}},
		{name: "tiny", o: Options{Companies: 1, Contacts: 1, Deals: 1}},
		{name: "negative", o: Options{Companies: -1}, wantErr: "companies = -1"},
		{name: "contacts without companies", o: Options{Contacts: 3}, wantErr: "at least 1 company"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Validate() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// Small and odd sizes must not panic and must keep the truth consistent.
func TestSmallWorlds(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{{}, {Companies: 1}, {Companies: 1, Contacts: 1, Deals: 1}, {Companies: 2, Contacts: 7, Deals: 3, Seed: 9}, {Companies: 50, Contacts: 3, Deals: 0}} {
		t.Run(fmt.Sprintf("%d-%d-%d", o.Companies, o.Contacts, o.Deals), func(t *testing.T) {
			dir := t.TempDir()
			sum, err := WriteFiles(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			checkTruth(t, dir, o, sum)
			_ = tableDigest(t, o)
		})
	}
}

// Every planted phone and e-mail value classifies as what the generator meant.
func TestPlantedKindsMatchClassifier(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		o := Options{Companies: 500, Contacts: 5000, Deals: 100, Seed: seed}
		g := newGen(o)
		check := func(v, kind string) {
			t.Helper()
			if got := ClassifyPhone(v); got != kind {
				t.Errorf("seed %d: phone %q planted as %s, classified %s", seed, v, kind, got)
			}
		}
		checkEmail := func(v string, k emailKind) {
			t.Helper()
			var got emailKind
			switch {
			case strings.Trim(v, emailTrim) == "":
				got = emailEmpty
			case !validEmail(v):
				got = emailInvalid
			case normalizeEmail(v) != v:
				got = emailMessy
			default:
				got = emailCanonical
			}
			if got != k {
				t.Errorf("seed %d: e-mail %q planted as %d, classified %d", seed, v, k, got)
			}
		}
		var a accountRec
		for i := 0; i < g.lay.A; i++ {
			g.accountAt(i, &a)
			check(a.phone, a.phoneKind)
		}
		var c contactRec
		for i := 0; i < g.lay.N; i++ {
			g.contactAt(i, &c)
			check(c.phone, c.phoneKind)
			check(c.mobile, c.mobileKind)
			checkEmail(c.email, c.emailKind)
		}
		var l leadRec
		for i := 0; i < g.lay.L; i++ {
			g.leadAt(i, &l)
			check(l.phone, l.phoneKind)
			checkEmail(l.email, l.emailKind)
		}
	}
}

func TestClassifyAndMaskPhone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, format, masked string }{
		{"+33612345678", PhoneE164, "+336******78"},
		{"+33 6 12 34 56 78", PhoneInternational, "+33 6 ** ** ** 78"},
		{"06 12 34 56 78", PhoneNationalTrunk, "06 ** ** ** 78"},
		{"0612345678", PhoneNationalTrunk, "06******78"},
		{"612345678", PhoneNational, "61*****78"},
		{"070-123 45 67", PhoneNationalTrunk, "07*-*** ** 67"},
		{"0151 23456789", PhoneNationalTrunk, "01** ******89"},
		{"07911 123456", PhoneNationalTrunk, "07*** ****56"},
		{"(415) 555-0134", PhoneNational, "(41*) ***-**34"},
		{"+1 415-555-0134", PhoneInternational, "+1 4**-***-**34"},
		{"+44 (0)20 7946 0123", PhoneInternational, "+44 (0)** **** **23"},
		{"0046 70 123 45 67", PhoneInternational, "0046 7* *** ** 67"},
		{"(415) 555-0134 x123", PhoneExtension, "(41*) ***-**34 x123"},
		{"+33 1 23 45 67 89 ext. 45", PhoneExtension, "+33 1 ** ** ** 89 ext. 45"},
		{"", PhoneEmpty, ""},
		{"  ", PhoneEmpty, "  "},
		{"n/a", PhoneOther, "n/a"},
		{"123", PhoneOther, "***"},
		{"+46 70", PhoneOther, "+** **"},
		{"06 12 34 56 78 (mobile)", PhoneOther, "06 ** ** ** 78 (mobile)"},
		{"06 12 34 56 78 / 01 23 45 67 89", PhoneOther, "06 ** ** ** ** / ** ** ** ** 89"},
	} {
		if got := ClassifyPhone(tc.in); got != tc.format {
			t.Errorf("ClassifyPhone(%q) = %s, want %s", tc.in, got, tc.format)
		}
		if got := pii.MaskPhone(tc.in); got != tc.masked {
			t.Errorf("pii.MaskPhone(%q) = %q, want %q", tc.in, got, tc.masked)
		}
	}
	for in, want := range map[string]string{
		"jane.doe@acme.se":   "j***@acme.se",
		" Jane.Doe@Acme.se ": "J***@Acme.se",
		"no email":           "n***",
		"jane@@acme.se":      "j***@@acme.se",
		"@acme.se":           "***@acme.se",
		"åsa@acme.se":        "å***@acme.se",
		"":                   "",
	} {
		if got := pii.MaskEmail(in); got != want {
			t.Errorf("pii.MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExampleMasksJSON(t *testing.T) {
	t.Parallel()
	p := &ProfileResult{Emails: EmailStats{InvalidExample: newExample("jane.doe@", pii.MaskEmail)}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("jane.doe")) || !bytes.Contains(b, []byte(`"j***@"`)) {
		t.Errorf("marshalled profile leaks or lacks the masked example: %s", b)
	}
	b, _ = json.Marshal(p.WithPII())
	if !bytes.Contains(b, []byte(`"jane.doe@"`)) {
		t.Errorf("WithPII does not show the raw example: %s", b)
	}
	if p.Emails.InvalidExample.String() != "j***@" {
		t.Errorf("the original was changed by WithPII")
	}
}

func TestCompanyDomainsUnique(t *testing.T) {
	t.Parallel()
	// Every company name of a large world has its own domain (and name).
	g := newGen(Options{Companies: 400_000, Seed: 7})
	n := len(companyStems)*len(companyNouns)*2 + 100
	domains := make(map[string]int, n)
	names := make(map[string]int, n)
	for e := 0; e < n; e++ {
		c := g.makeCompany(e)
		slug, _, _ := strings.Cut(c.domain, ".")
		if prev, ok := domains[slug]; ok {
			t.Fatalf("companies %d and %d share the domain name %s", prev, e, slug)
		}
		domains[slug] = e
		if prev, ok := names[c.stem]; ok {
			t.Fatalf("companies %d and %d share the name %s", prev, e, c.stem)
		}
		names[c.stem] = e
	}
}

func TestSalesforceID(t *testing.T) {
	t.Parallel()
	// The checksum suffix of a real Salesforce id.
	if got := sfID("001", 0); len(got) != 18 || !strings.HasPrefix(got, "0015g0000000000") {
		t.Errorf("sfID = %q", got)
	}
	if a, b := sfID("003", 100003), sfID("003", 100004); a == b {
		t.Errorf("sfID not unique: %s", a)
	}
}

func TestPlanLoads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := WriteFiles(dir, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	p, err := plans.Load(filepath.Join(dir, FilePlan))
	if err != nil {
		t.Fatalf("the demo plan does not load: %v", err)
	}
	if len(p.Integrations) != 8 {
		t.Errorf("integrations: %d, want 8", len(p.Integrations))
	}
	// Every CSV mapping names a file that exists, and every mapped column is in its header.
	for _, o := range p.Objects {
		for _, m := range o.Mappings {
			s := p.System(m.System)
			if s.Kind != plans.KindCSV {
				continue
			}
			header, _ := readCSV(t, filepath.Join(p.Resolve(s.Dir), m.File))
			has := map[string]bool{}
			for _, h := range header {
				has[h] = true
			}
			cols := []string{m.ID, m.UpdatedAt}
			for _, f := range o.Fields {
				if c, ok := f.Column(m.System); ok {
					cols = append(cols, c)
				}
			}
			for _, c := range cols {
				if c != "" && !has[c] {
					t.Errorf("%s.%s: column %q not in %s header %q", o.Name, m.System, c, m.File, header)
				}
			}
		}
	}
	// The users the plan maps to exist in the new CRM.
	emails, _ := newUsers(DefaultOptions())
	for _, m := range p.Users.Map {
		found := false
		for _, e := range emails {
			found = found || e == m.New
		}
		if !found {
			t.Errorf("users.map %s -> %s: not a new CRM user", m.Old, m.New)
		}
	}
}

func TestWriteFilesAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sum, err := WriteFiles(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if len(names) != len(Files) {
		t.Errorf("files written: %v, want %v (no temporary files left)", names, Files)
	}
	for _, f := range Files {
		if _, ok := sum.Files[f]; !ok {
			t.Errorf("summary lacks %s", f)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileSalesforceContact))
	if !bytes.HasPrefix(b, []byte("\uFEFFContact ID,")) {
		t.Errorf("Contact.csv does not start with a BOM and its header: %q", b[:20])
	}
	// A file that is in the way makes WriteFiles fail cleanly.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "truth"), []byte("x"), 0o644)
	if _, err := WriteFiles(bad, DefaultOptions()); err == nil {
		t.Errorf("WriteFiles into a folder with a file named truth: no error")
	}
}

func readCSV(t testing.TB, path string) ([]string, [][]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	r := csv.NewReader(bytes.NewReader(b))
	header, err := r.Read()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, rec)
	}
	return header, rows
}

// matchEmail is the hand-written form of emailPattern, which the SQL side uses.
func TestMatchEmailIsEmailPattern(t *testing.T) {
	t.Parallel()
	cases := []string{"a@b.c", "a@b.", "a@.c", "a@b..c", "a@.b.c", "@b.c", "a@@b.c", "a b@c.d", "a@b\t.c", "a@b.c\n",
		"a@b", "ab.c", "", "a@b.c.d", "å@ö.se", "a@b.c@d.e", ".@..", "a@...", "a@x.y.", "jane.doe@", "no email"}
	o := Options{Companies: 300, Contacts: 3000, Seed: 5}
	g := newGen(o)
	var c contactRec
	for r := 0; r < g.lay.N; r++ {
		g.contactAt(r, &c)
		cases = append(cases, strings.Trim(c.email, emailTrim))
	}
	for _, s := range cases {
		if got, want := matchEmail(s), emailRe.MatchString(s); got != want {
			t.Errorf("matchEmail(%q) = %v, emailRe says %v", s, got, want)
		}
	}
}

func TestTimestamps(t *testing.T) {
	t.Parallel()
	g := newGen(Options{Companies: 300, Contacts: 3000, Deals: 1000, Seed: 3})
	check := func(what string, i int, created, modified time.Time) {
		t.Helper()
		if created.After(modified) || modified.After(refNow) || created.Before(epochStart) {
			t.Errorf("%s %d: created %v, modified %v", what, i, created, modified)
		}
	}
	var a accountRec
	for i := 0; i < g.lay.A; i++ {
		g.accountAt(i, &a)
		check("account", i, a.created, a.modified)
	}
	var c contactRec
	for i := 0; i < g.lay.N; i++ {
		g.contactAt(i, &c)
		check("contact", i, c.created, c.modified)
	}
	var l leadRec
	for i := 0; i < g.lay.L; i++ {
		g.leadAt(i, &l)
		check("lead", i, l.created, l.modified)
	}
	var o oppRec
	for i := 0; i < g.lay.D; i++ {
		g.oppAt(i, &o)
		check("opportunity", i, o.created, o.modified)
	}
	var act activityRec
	for i := 0; i < g.lay.T; i++ {
		g.activityAt(i, &act)
		check("activity", i, epochStart, act.modified)
	}
	var s subscriptionRec
	for i := 0; i < g.lay.DB; i++ {
		if g.subscriptionAt(i, &s) {
			check("subscription", i, epochStart, s.updated)
		}
	}
	var sp supportRec
	for i := 0; i < g.lay.K; i++ {
		if g.supportAt(i, &sp) {
			check("support", i, epochStart, sp.updated)
		}
	}
}
