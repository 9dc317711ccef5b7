package normalize

import (
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// normTestCase is the table row of the normalization tests; each test
// declares `type testcase = normTestCase`.
type normTestCase struct {
	name       string
	in         string
	want       string
	wantStatus Status
}

var (
	normTestOnce sync.Once
	normTestN    *Normalizer
	normTestLoc  *time.Location
)

// normTestNormalizer returns the shared test Normalizer: region SE, time zone
// Europe/Stockholm, no default currency.
func normTestNormalizer(t testing.TB) *Normalizer {
	t.Helper()
	normTestOnce.Do(func() {
		loc, err := time.LoadLocation("Europe/Stockholm")
		if err != nil {
			panic("load Europe/Stockholm: " + err.Error())
		}
		normTestLoc = loc
		normTestN = New(Options{Region: "SE", Location: loc})
	})
	return normTestN
}

// normRunCases runs the cases against f, checking the value, the status,
// that output is valid UTF-8 and that the output normalizes to itself.
func normRunCases(t *testing.T, f func(string) (string, Status), cases []normTestCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, st := f(tc.in)
			if got != tc.want || st != tc.wantStatus {
				t.Fatalf("(%q) = %q, %v; want %q, %v", tc.in, got, st, tc.want, tc.wantStatus)
			}
			normCheckOutput(t, tc.in, got, st, f)
		})
	}
}

// normCheckOutput checks the invariants every result must hold.
func normCheckOutput(t *testing.T, in, got string, st Status, f func(string) (string, Status)) {
	t.Helper()
	if !utf8.ValidString(got) {
		t.Fatalf("(%q) = %q: not valid UTF-8", in, got)
	}
	switch st {
	case Empty:
		if got != "" {
			t.Fatalf("(%q) = %q, empty: want \"\"", in, got)
		}
	case Unchanged:
		if got != in {
			t.Fatalf("(%q) = %q, unchanged: want the input", in, got)
		}
	case Normalized:
		if got == in {
			t.Fatalf("(%q) = %q, normalized: but the value did not change", in, got)
		}
	case Invalid:
		if got != normValidUTF8(normTrim(in)) {
			t.Fatalf("(%q) = %q, invalid: want the raw value trimmed", in, got)
		}
	default:
		t.Fatalf("(%q): status %v", in, st)
	}
	again, st2 := f(got)
	switch st {
	case Empty:
		if st2 != Empty {
			t.Fatalf("again (%q) = %q, %v; want empty", got, again, st2)
		}
	case Invalid:
		if again != got || st2 != Invalid {
			t.Fatalf("again (%q) = %q, %v; want it back invalid", got, again, st2)
		}
	default:
		if again != got || st2 != Unchanged {
			t.Fatalf("not idempotent: (%q) = %q, then (%q) = %q, %v", in, got, got, again, st2)
		}
	}
}

func TestNormStatusString(t *testing.T) {
	for st, want := range map[Status]string{Empty: "empty", Unchanged: "unchanged", Normalized: "normalized", Invalid: "invalid", 9: "status(9)"} {
		if got := st.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", st, got, want)
		}
	}
}

func TestNormText(t *testing.T) {
	type testcase = normTestCase
	n := normTestNormalizer(t)
	normRunCases(t, n.Text, []testcase{
		{"canonical", "Acme AB", "Acme AB", Unchanged},
		{"empty", "", "", Empty},
		{"spaces only", "   ", "", Empty},
		{"whitespace only", " \t\r\n\u00a0\u3000 ", "", Empty},
		{"zero-width only", "\u200b\ufeff", "", Empty},
		{"surrounding spaces", "  Acme AB  ", "Acme AB", Normalized},
		{"inner spaces", "Acme   AB", "Acme AB", Normalized},
		{"tabs and newlines", "Acme\tAB\r\nStockholm\n", "Acme AB Stockholm", Normalized},
		{"no-break space", "Acme\u00a0AB", "Acme AB", Normalized},
		{"narrow no-break and ideographic space", "Acme\u202fAB\u3000Ltd", "Acme AB Ltd", Normalized},
		{"zero-width space", "Ac\u200bme", "Acme", Normalized},
		{"byte-order mark", "\ufeffAcme", "Acme", Normalized},
		{"soft hyphen", "Acme\u00adcorp", "Acmecorp", Normalized},
		{"direction marks", "\u200fAcme\u202e", "Acme", Normalized},
		{"NUL and controls", "Acme\x00AB\x07", "AcmeAB", Normalized},
		{"C1 control", "Acme\u0085AB", "Acme AB", Normalized},
		{"DEL", "Acme\x7f", "Acme", Normalized},
		{"decomposed to NFC", "Cafe\u0301", "Café", Normalized},
		{"already NFC", "Café Åkesson", "Café Åkesson", Unchanged},
		{"emoji with joiner kept", "👩\u200d💻 dev", "👩\u200d💻 dev", Unchanged},
		{"invalid UTF-8 byte", "Acme \xff AB", "Acme \uFFFD AB", Normalized},
		{"invalid UTF-8 only", "\xff\xfe", "\uFFFD\uFFFD", Normalized},
		{"truncated UTF-8 sequence", "Caf\xc3", "Caf\uFFFD", Normalized},
		{"Latin-1 bytes", "M\xfcnchen", "M\uFFFDnchen", Normalized},
		{"replacement char kept", "a\uFFFDb", "a\uFFFDb", Unchanged},
		{"CJK", "株式会社 アクメ", "株式会社 アクメ", Unchanged},
		{"punctuation kept", "Acme, Inc. (EU) – \"best\"", "Acme, Inc. (EU) – \"best\"", Unchanged},
	})
}

func TestNormName(t *testing.T) {
	type testcase = normTestCase
	n := normTestNormalizer(t)
	normRunCases(t, n.Name, []testcase{
		{"mixed kept", "McDonald", "McDonald", Unchanged},
		{"particles kept", "van der Berg", "van der Berg", Unchanged},
		{"title case", "Anna Lindqvist", "Anna Lindqvist", Unchanged},
		{"all upper", "ANNA LINDQVIST", "Anna Lindqvist", Normalized},
		{"all lower", "anna lindqvist", "Anna Lindqvist", Normalized},
		{"hyphen upper", "JEAN-LUC PICARD", "Jean-Luc Picard", Normalized},
		{"hyphen lower", "jean-luc", "Jean-Luc", Normalized},
		{"apostrophe lower", "o'neil", "O'Neil", Normalized},
		{"apostrophe upper", "O'NEIL", "O'Neil", Normalized},
		{"typographic apostrophe", "ANNE-MARIE O’NEIL", "Anne-Marie O’Neil", Normalized},
		{"d apostrophe", "d'artagnan", "D'Artagnan", Normalized},
		{"possessive", "JANE'S", "Jane's", Normalized},
		{"accented upper", "ÅSA ÖSTERGÅRD", "Åsa Östergård", Normalized},
		{"accented lower", "éloïse", "Éloïse", Normalized},
		{"german sharp s kept", "STRAßE", "STRAßE", Unchanged},
		{"digits", "HENRY 3RD", "Henry 3rd", Normalized},
		{"initials", "J.R.R. TOLKIEN", "J.R.R. Tolkien", Normalized},
		{"one letter", "a", "a", Unchanged},
		{"two letters", "ab", "Ab", Normalized},
		{"spaces and case", "  ANNA   LINDQVIST ", "Anna Lindqvist", Normalized},
		{"empty", "  ", "", Empty},
		{"no letters", "1234", "1234", Unchanged},
		{"CJK kept", "李 小龙", "李 小龙", Unchanged},
		{"CJK with upper latin", "李 WANG", "李 Wang", Normalized},
	})
}

func TestNormBool(t *testing.T) {
	type testcase = normTestCase
	n := normTestNormalizer(t)
	var cases []testcase
	for _, in := range []string{"TRUE", "True", "t", "T", "yes", "Yes", "Y", "y", "1", "-1", "on", "ON", "x", "X", "oui", "Oui", "ja", "JA", "wahr", "sant", "checked", "✓", " yes "} {
		cases = append(cases, testcase{"true " + in, in, "true", Normalized})
	}
	for _, in := range []string{"FALSE", "False", "f", "F", "no", "No", "N", "n", "0", "off", "OFF", "non", "Non", "nej", "nein", "Nein", "falsch", "unchecked", "\tno\n"} {
		cases = append(cases, testcase{"false " + in, in, "false", Normalized})
	}
	cases = append(cases,
		testcase{"canonical true", "true", "true", Unchanged},
		testcase{"canonical false", "false", "false", Unchanged},
		testcase{"empty", "", "", Empty},
		testcase{"blank", "  ", "", Empty},
		testcase{"maybe", "maybe", "maybe", Invalid},
		testcase{"two", "2", "2", Invalid},
		testcase{"spaces kept trimmed", " n/a ", "n/a", Invalid},
		testcase{"long", strings.Repeat("yes", 20), strings.Repeat("yes", 20), Invalid},
		testcase{"invalid UTF-8", "\xff", "\uFFFD", Invalid},
	)
	normRunCases(t, n.Bool, cases)
}

func TestNormEnum(t *testing.T) {
	type testcase = normTestCase
	n := normTestNormalizer(t)
	values := []EnumValue{
		{Old: "MQL", New: "marketing_qualified"},
		{Old: "SQL", New: "sales_qualified"},
		{Old: "Closed Won", New: "won"},
		{Old: "Closed Lost", New: "lost"},
		{Old: "Tier 1+", New: "tier_1_plus"},
	}
	enum := func(s string) (string, Status) { return n.Enum(s, values) }
	normRunCases(t, enum, []testcase{
		{"exact old", "MQL", "marketing_qualified", Normalized},
		{"exact old with spaces", "  MQL ", "marketing_qualified", Normalized},
		{"old lower case", "mql", "marketing_qualified", Normalized},
		{"old with spaces inside", "Closed Won", "won", Normalized},
		{"old lower", "closed won", "won", Normalized},
		{"old hyphen", "closed-won", "won", Normalized},
		{"old underscore upper", "CLOSED_WON", "won", Normalized},
		{"old doubled space and dot", "Closed  Won.", "won", Normalized},
		{"old in parentheses", "(Closed Won)", "won", Normalized},
		{"old with NBSP", "Closed\u00a0Won", "won", Normalized},
		{"symbol kept in match", "tier 1+", "tier_1_plus", Normalized},
		{"symbol differs", "Tier 1", "Tier 1", Invalid},
		{"new value as is", "won", "won", Unchanged},
		{"new value padded", " won ", "won", Normalized},
		{"new value case", "Won", "won", Normalized},
		{"new value with space for underscore", "Marketing Qualified", "marketing_qualified", Normalized},
		{"new value canonical", "marketing_qualified", "marketing_qualified", Unchanged},
		{"unknown", "Closed", "Closed", Invalid},
		{"unknown apostrophe", "Won't", "Won't", Invalid},
		{"unknown trimmed", "  Nurture ", "Nurture", Invalid},
		{"inner punctuation differs", "Closed.Won", "Closed.Won", Invalid},
		{"empty", "", "", Empty},
		{"blank", " \t", "", Empty},
	})

	ambiguous := []EnumValue{{Old: "A-B", New: "x"}, {Old: "A B", New: "y"}, {Old: "c", New: "z"}, {Old: "C", New: "z"}}
	amb := func(s string) (string, Status) { return n.Enum(s, ambiguous) }
	normRunCases(t, amb, []testcase{
		{"exact wins", "A B", "y", Normalized},
		{"exact wins too", "A-B", "x", Normalized},
		{"loose match of two mappings", "a_b", "a_b", Invalid},
		{"loose match of one target", " c. ", "z", Normalized},
	})
}

func TestNormValue(t *testing.T) {
	n := normTestNormalizer(t)
	spec := FieldSpec{Currency: "EUR", Values: []EnumValue{{Old: "MQL", New: "marketing_qualified"}}}
	type testcase struct {
		name, typ, in, want string
		wantStatus          Status
	}
	for _, tc := range []testcase{
		{"text", "text", " Acme  AB ", "Acme AB", Normalized},
		{"email", "email", "Jane@Acme.se", "jane@acme.se", Normalized},
		{"phone", "phone", "070-123 45 67", "+46701234567", Normalized},
		{"domain", "domain", "https://www.acme.se/", "acme.se", Normalized},
		{"url", "url", "acme.se", "https://acme.se", Normalized},
		{"number", "number", "1 234,50", "1234.5", Normalized},
		{"money with field currency", "money", "12 500", "12500.00 EUR", Normalized},
		{"money with own currency", "money", "$12,500.00", "12500.00 USD", Normalized},
		{"date", "date", "05/03/2024", "2024-03-05", Normalized},
		{"datetime", "datetime", "2024-03-05 14:30", "2024-03-05T13:30:00Z", Normalized},
		{"bool", "bool", "Yes", "true", Normalized},
		{"enum", "enum", "mql", "marketing_qualified", Normalized},
		{"enum unknown", "enum", "Lead", "Lead", Invalid},
		{"ref trimmed", "ref", " 0042 ", "0042", Normalized},
		{"ref kept", "ref", "ACC-0042", "ACC-0042", Unchanged},
		{"ref invalid UTF-8", "ref", "id\xff", "id\uFFFD", Normalized},
		{"ref empty", "ref", " ", "", Empty},
		{"user email", "user", " Anna.Berg@Nordlys.example ", "anna.berg@nordlys.example", Normalized},
		{"user bad email", "user", "anna@", "anna@", Invalid},
		{"user name", "user", "Anna  Berg", "Anna Berg", Normalized},
		{"unknown type is text", "color", " red ", "red", Normalized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st := n.Value(tc.typ, tc.in, spec)
			if got != tc.want || st != tc.wantStatus {
				t.Fatalf("Value(%q, %q) = %q, %v; want %q, %v", tc.typ, tc.in, got, st, tc.want, tc.wantStatus)
			}
		})
	}
	// An enum field without a value map is text.
	if got, st := n.Value("enum", " Lead ", FieldSpec{}); got != "Lead" || st != Normalized {
		t.Errorf("Value(enum without values) = %q, %v; want \"Lead\", normalized", got, st)
	}
	// The spec's region overrides the default region.
	if got, st := n.Value("phone", "06 12 34 56 78", FieldSpec{Region: "FR"}); got != "+33612345678" || st != Normalized {
		t.Errorf("Value(phone, region FR) = %q, %v", got, st)
	}
}

var normAllTypes = []string{"text", "email", "phone", "domain", "url", "number", "money", "date", "datetime", "bool", "enum", "ref", "user"}

// TestNormNonUTF8 feeds invalid UTF-8 to every type: no panic, valid output.
func TestNormNonUTF8(t *testing.T) {
	n := normTestNormalizer(t)
	spec := FieldSpec{Values: []EnumValue{{Old: "a", New: "b"}}}
	for _, in := range []string{"\xff", "abc\xfe", "\xc3\x28@acme.se", "+46\xff70 123 45 67", "12\xa0500 EUR", "2024-03-05\x80", "jane@m\xfcnchen.de", "https://acme.se/\xff"} {
		for _, typ := range normAllTypes {
			got, st := n.Value(typ, in, spec)
			if !utf8.ValidString(got) {
				t.Errorf("Value(%s, %q) = %q, %v: not valid UTF-8", typ, in, got, st)
			}
			if st == Unchanged {
				t.Errorf("Value(%s, %q) = %q: unchanged although the input is not valid UTF-8", typ, in, got)
			}
		}
	}
}

// TestNormHugeValue checks that a 1 MB value works for Text and is rejected by
// the parsers, which look at a bounded prefix only.
func TestNormHugeValue(t *testing.T) {
	n := normTestNormalizer(t)
	words := strings.Repeat("word\t ", 1<<20/6)
	got, st := n.Text(words)
	if st != Normalized || len(got) != len(words)/6*5-1 || strings.Contains(got, "  ") {
		t.Fatalf("Text(1 MB) = %d bytes, %v", len(got), st)
	}
	canonical := strings.Repeat("a", 1<<20)
	if got, st := n.Text(canonical); got != canonical || st != Unchanged {
		t.Fatalf("Text(1 MB canonical) = %d bytes, %v", len(got), st)
	}
	big := strings.Repeat("1", 1<<20)
	spec := FieldSpec{Values: []EnumValue{{Old: "a", New: "b"}}}
	for _, typ := range []string{"email", "phone", "domain", "url", "number", "money", "date", "datetime", "bool", "enum"} {
		for _, in := range []string{big, big + "@acme.se", "jane@" + big + ".se", "+" + big} {
			start := time.Now()
			got, st := n.Value(typ, in, spec)
			if st != Invalid || got != in {
				t.Errorf("Value(%s, 1 MB) = %d bytes, %v; want it back invalid", typ, len(got), st)
			}
			t.Logf("%s on %d bytes: %v", typ, len(in), time.Since(start))
		}
	}
}

func TestNormTrim(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		" a ":                 "a",
		"\u00a0\u200ba\ufeff": "a",
		"\x00a\x7f":           "a",
		"\xffa":               "\xffa",
		"a\xff":               "a\xff",
		"\u3000a b\u2029":     "a b",
		"\u200d\u200ca\u200c": "\u200d\u200ca\u200c",
	} {
		if got := normTrim(in); got != want {
			t.Errorf("normTrim(%q) = %q, want %q", in, got, want)
		}
	}
}
