package dedup

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/crmigrate/crmigrate/normalize"
)

// The name, phone and email comparison methods.
//
// name compares person names the way people write them: case, accents,
// spaces, hyphens and dots do not count (Engström, ENGSTRÖM and Engstrom
// are equal; Jean-Pierre and jean pierre too), a common short form equals
// its full name (Bob and Robert, Kajsa and Katarina: similarity 0.95,
// level close), and everything else is Jaro-Winkler on the folded names.
//
// phone compares phone numbers already normalized to E.164 (+46701234567,
// with ";ext=12" for an extension): the same number is 1 (an extension on
// one side only does not count against it; two different extensions are
// 0.8, partial: one switchboard, two people); the same last 8 digits with a
// different country code or trunk prefix is 0.95, close (a national number
// read with the wrong default country, +46 015… for a German 015…);
// anything else 0. All fields of an object compared with phone are pooled:
// each record's numbers in any of them (phone, mobile, …) form one set, and
// the best agreement between the two sets is one compared feature.
//
// email compares normalized e-mail addresses: the same address is 1; the
// same local part at another domain 0.95, close (jane.doe@acme.se and
// jane.doe@gmail.com); the same domain with another local part 0.8,
// partial (one organisation: colleagues, or one person's two addresses),
// except at free-mail domains (gmail.com, outlook.com, …), which say
// nothing about an organisation; anything else 0. Which of these levels
// speaks for or against a match is learned like any other.

// matchFoldName returns the canonical form of a name for the name method:
// lower-case ASCII letters and digits, accents folded (é → e, ß → ss, ø →
// o), everything else dropped.
func matchFoldName(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' || !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case r >= utf8.RuneSelf && unicode.IsLetter(r):
			if x, y := blkFold(r); x != 0 {
				b.WriteByte(x | 0x20)
				if y != 0 {
					b.WriteByte(y | 0x20)
				}
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
		}
	}
	return b.String()
}

// NameSimilarity returns the similarity of two person names under the name
// method: 1 when equal after folding case, accents and punctuation; 0.95
// when one is a common short form of the other (or both of the same name);
// otherwise the Jaro-Winkler similarity of the folded names.
func NameSimilarity(a, b string) float64 {
	var sc matchScratch
	return sc.nameFolded(matchFoldName(a), matchFoldName(b))
}

// matchNicknameSim is the similarity of a name and its short form.
const matchNicknameSim = 0.95

// nameFolded compares two folded names.
func (sc *matchScratch) nameFolded(a, b string) float64 {
	if a == b {
		return 1
	}
	if a == "" || b == "" {
		return 0
	}
	s := sc.jaroWinkler(a, b)
	if s < matchNicknameSim && matchNicknames(a, b) {
		return matchNicknameSim
	}
	return s
}

// matchNicknames reports whether folded names a and b are a short form and
// its full name, or two short forms of one name.
func matchNicknames(a, b string) bool {
	fa, fb := matchNickFull[a], matchNickFull[b]
	if len(fa) == 0 && len(fb) == 0 {
		return false
	}
	for _, x := range fa {
		if x == b {
			return true
		}
		for _, y := range fb {
			if x == y {
				return true
			}
		}
	}
	for _, y := range fb {
		if y == a {
			return true
		}
	}
	return false
}

// matchNickList lists common short forms of given names in English,
// Swedish and the other Nordic languages, German, French, Spanish, Italian
// and Dutch: "SHORT: FULL FULL …". It is a general list, not one fitted to
// any data set; names are folded as by matchFoldName.
var matchNickList = []string{
	// English
	"abby: abigail", "al: albert alfred alan allan alexander", "alex: alexander alexandra alexandre alexis",
	"andy: andrew andreas andrea", "drew: andrew", "tony: anthony antonio anton", "art: arthur",
	"barb: barbara", "becky: rebecca", "becca: rebecca", "ben: benjamin bernhard", "benny: benjamin",
	"bert: albert herbert robert bertrand", "beth: elizabeth elisabeth bethany", "betty: elizabeth elisabeth",
	"bill: william", "billy: william", "will: william", "willy: william wilhelm", "liam: william",
	"bob: robert", "bobby: robert", "rob: robert", "robbie: robert", "bobbie: roberta",
	"cathy: catherine cathrine", "kathy: katherine kathryn kathleen", "kate: katherine catherine kathryn katharina katarina",
	"katie: katherine catherine kathryn", "kat: katherine katarina", "kitty: katherine catherine",
	"charlie: charles charlotte", "chuck: charles", "chris: christopher christian christine christina christophe christoph",
	"christy: christine christina", "chrissy: christine christina", "dan: daniel", "danny: daniel",
	"dave: david", "davy: david", "deb: deborah", "debbie: deborah", "dick: richard", "rick: richard",
	"ricky: richard", "rich: richard", "richie: richard", "don: donald", "doug: douglas", "ed: edward edmund edwin",
	"eddie: edward", "ted: edward theodore", "teddy: edward theodore", "fred: frederick frederic frederik fredrik alfred",
	"freddie: frederick alfred", "frank: francis franklin", "gabe: gabriel", "gene: eugene", "greg: gregory",
	"hank: henry", "harry: henry harold", "jack: john jacob", "jake: jacob", "jim: james", "jimmy: james",
	"jamie: james", "jeff: jeffrey", "jen: jennifer", "jenny: jennifer", "jerry: gerald jerome",
	"jess: jessica", "jessie: jessica", "joe: joseph", "joey: joseph", "jon: jonathan", "johnny: john",
	"josh: joshua", "judy: judith", "ken: kenneth", "kenny: kenneth", "kim: kimberly kimberley",
	"larry: lawrence laurence", "len: leonard", "lenny: leonard", "leo: leonard leonardo leopold",
	"liz: elizabeth elisabeth", "lizzie: elizabeth", "eliza: elizabeth", "lou: louis louise",
	"maggie: margaret", "meg: margaret", "peggy: margaret", "marge: margaret", "matt: matthew matthias",
	"max: maximilian maxim maxime", "mike: michael", "mikey: michael", "mick: michael", "mitch: mitchell",
	"nate: nathan nathaniel", "nick: nicholas nicolas nikolaus", "nicky: nicholas nicole", "pat: patrick patricia",
	"patty: patricia", "pete: peter", "phil: philip phillip", "ray: raymond", "ron: ronald", "ronnie: ronald",
	"sam: samuel samantha", "sammy: samuel samantha", "sandy: sandra alexandra", "steve: steven stephen",
	"steph: stephanie", "sue: susan suzanne", "susie: susan", "terry: terence teresa", "tim: timothy",
	"tom: thomas", "tommy: thomas", "vicky: victoria", "vic: victor victoria", "walt: walter", "wes: wesley",
	"zach: zachary", "zack: zachary", "nell: eleanor helen", "ellie: eleanor elizabeth", "abe: abraham",
	// Swedish, Nordic
	"fredde: fredrik", "micke: mikael michael", "mikke: mikael", "kajsa: katarina karin", "kaisa: katarina",
	"greta: margareta", "maggan: margareta", "lisa: elisabet elisabeth elizabeth", "lisen: elisabet elisabeth",
	"hanna: johanna", "hannes: johannes", "johan: johannes", "janne: jan johan", "jocke: joakim",
	"kalle: karl carl", "pelle: per", "nisse: nils", "olle: olof", "lasse: lars",
	"tobbe: tobias", "bosse: bo", "sanna: susanna", "mia: maria", "majken: maria", "stina: kristina christina",
	"kicki: kristina", "gittan: birgitta", "britt: birgitta", "gunnel: gunhild", "ricke: rickard",
	"sebbe: sebastian", "ludde: ludvig", "henke: henrik", "affe: alfred", "nicke: niklas", "danne: daniel",
	"emmi: emma", "vickan: victoria", "benke: bengt",
	// German
	"basti: sebastian", "matze: matthias", "steffi: stefanie stephanie", "franzi: franziska", "kathi: katharina",
	"kati: katharina", "hansi: hans johannes", "hans: johannes", "jo: johannes johanna josef", "sepp: josef",
	"uschi: ursula", "gabi: gabriele gabriela", "andi: andreas", "flo: florian", "tobi: tobias", "chrissi: christina",
	"lena: helena magdalena", "leni: helene magdalena", "alex: alexander", "fritz: friedrich", "heinz: heinrich",
	"kurt: konrad", "willi: wilhelm", "gerd: gerhard", "jens: johannes", "klaus: nikolaus", "susi: susanne",
	"moni: monika", "sabi: sabine", "conny: cornelia konrad", "rike: friederike ulrike", "tom: thomas",
	// French
	"seb: sebastien", "fred: frederic", "nath: nathalie", "steph: stephane stephanie", "jp: jeanpierre",
	"jb: jeanbaptiste", "jc: jeanclaude", "manu: emmanuel emmanuelle", "cathy: catherine", "isa: isabelle",
	"flo: florence florian", "val: valerie valentin", "vero: veronique", "dom: dominique", "domi: dominique",
	"babette: elisabeth", "mimi: michele", "titi: thierry", "nico: nicolas", "ben: benoit benjamin",
	"max: maxime", "chris: christophe christine", "alex: alexandre alexandra",
	// Spanish, Italian, Dutch
	"paco: francisco", "pepe: jose", "lola: dolores", "pili: pilar", "nacho: ignacio", "quique: enrique",
	"beppe: giuseppe", "peppe: giuseppe", "gigi: luigi", "franco: francesco", "sandro: alessandro",
	"ale: alessandro alessandra", "bea: beatrice beatriz", "anneke: anna", "jan: johannes", "joop: johannes",
	"kees: cornelis", "piet: pieter petrus", "wim: willem", "sjaak: jacobus", "hans: johannes",
}

// matchNickFull maps a folded short form to its folded full names.
var matchNickFull = func() map[string][]string {
	m := map[string][]string{}
	for _, e := range matchNickList {
		short, full, _ := strings.Cut(e, ":")
		s := matchFoldName(short)
		for _, f := range strings.Fields(full) {
			if f = matchFoldName(f); f != s {
				m[s] = append(m[s], f)
			}
		}
	}
	return m
}()

// matchPhoneSep separates the numbers of a pooled phone value.
const matchPhoneSep = "\x1f"

// PhoneSimilarity returns the similarity of two normalized phone numbers
// under the phone method (see the package notes above): 1 the same number,
// 0.95 the same last 8 digits, 0.8 the same number with two different
// extensions, else 0.
func PhoneSimilarity(a, b string) float64 {
	var ba, bb [32]byte
	da, ea := matchPhoneDigits(ba[:0], a)
	db, eb := matchPhoneDigits(bb[:0], b)
	switch {
	case len(da) == 0 || len(db) == 0:
		if a == b {
			return 1
		}
		return 0
	case string(da) == string(db):
		if ea == eb || ea == "" || eb == "" {
			return 1
		}
		return 0.8
	case len(da) >= 8 && len(db) >= 8 && string(da[len(da)-8:]) == string(db[len(db)-8:]):
		return 0.95
	}
	return 0
}

// matchPhoneDigits appends the digits of the number part of s (before
// ";ext=") to dst and returns them with the extension.
func matchPhoneDigits(dst []byte, s string) ([]byte, string) {
	num, ext, _ := strings.Cut(s, ";ext=")
	for i := 0; i < len(num); i++ {
		if c := num[i]; c >= '0' && c <= '9' {
			dst = append(dst, c)
		}
	}
	return dst, ext
}

// matchPhoneSets returns the best similarity between any number of pooled value
// a and any of pooled value b (numbers joined by matchPhoneSep).
func matchPhoneSets(a, b string) float64 {
	if a == b {
		return 1
	}
	best := 0.0
	for ra := a; ra != ""; {
		var x string
		x, ra, _ = strings.Cut(ra, matchPhoneSep)
		for rb := b; rb != ""; {
			var y string
			y, rb, _ = strings.Cut(rb, matchPhoneSep)
			if x == "" || y == "" {
				continue
			}
			if s := PhoneSimilarity(x, y); s > best {
				if best = s; best == 1 {
					return 1
				}
			}
		}
	}
	return best
}

// matchFreeMail is the built-in list of free-mail domains (see
// normalize.Normalizer.IsFreeMail), as a set.
var matchFreeMail = func() map[string]bool {
	free := normalize.FreeMailDomains()
	m := make(map[string]bool, len(free))
	for _, d := range free {
		m[d] = true
	}
	return m
}()

// EmailSimilarity returns the similarity of two normalized e-mail addresses
// under the email method: 1 the same address, 0.95 the same local part at
// another domain, 0.8 the same (non-free-mail) domain with another local
// part, else 0.
func EmailSimilarity(a, b string) float64 {
	if a == b {
		return 1
	}
	i, j := strings.LastIndexByte(a, '@'), strings.LastIndexByte(b, '@')
	if i <= 0 || j <= 0 {
		return 0
	}
	la, da, lb, db := a[:i], a[i+1:], b[:j], b[j+1:]
	switch {
	case la == lb:
		return matchEmailLocal
	case da == db && da != "" && !matchFreeMail[da]:
		return matchEmailDomain
	}
	return 0
}

// Similarities of the email method.
const (
	matchEmailLocal  = 0.95
	matchEmailDomain = 0.8
)
