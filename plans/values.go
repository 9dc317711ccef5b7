package plans

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParsePercent parses "0.1%" (a percentage) or "0.001" (a plain number) into a
// fraction: both give 0.001. It does not check the range; callers do.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	if pct {
		t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	}
	if t == "" {
		return 0, fmt.Errorf("%q is not a percentage", s)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(t, "xXpP_") {
		return 0, fmt.Errorf("%q is not a percentage like 0.5%% or a fraction like 0.005", s)
	}
	if pct {
		f /= 100
	}
	return f, nil
}

// ParseDuration parses a Go duration ("15m", "1h30m", "24h") or a number of
// days with the suffix d, alone or followed by a Go duration ("7d", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(t, "-") {
		neg, t = true, t[1:]
	}
	var d time.Duration
	if i := strings.IndexByte(t, 'd'); i > 0 {
		n, err := strconv.ParseUint(t[:i], 10, 32)
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("%q is not a duration like 15m, 24h or 7d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
		t = t[i+1:]
		if t == "" {
			if neg {
				d = -d
			}
			return d, nil
		}
	}
	rest, err := time.ParseDuration(t)
	if err != nil || strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") {
		return 0, fmt.Errorf("%q is not a duration like 15m, 24h or 7d", s)
	}
	d += rest
	if neg {
		d = -d
	}
	return d, nil
}

// Duration is a time.Duration that is written as "7d" or "1h30m" in JSON.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration the way a plan writes it: "7d", "1d12h",
// "1h30m", "15m", "30s" (sub-second and negative durations as time.Duration).
func (d Duration) String() string {
	td := time.Duration(d)
	if td == 0 {
		return "0s"
	}
	if td < 0 || td%time.Second != 0 {
		return td.String()
	}
	var b strings.Builder
	for _, u := range []struct {
		d      time.Duration
		suffix string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := td / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.suffix)
			td -= n * u.d
		}
	}
	return b.String()
}

// MarshalJSON writes the duration as a string such as "15m" or "7d".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// RedactURL returns a connection string safe to print: postgres URLs become
// scheme://user@host:port/db (no password, no parameters), key=value strings
// are reduced to the same form, local:DBNAME is returned as is, and anything
// unrecognised becomes "(hidden)".
func RedactURL(s string) string {
	switch {
	case s == "":
		return ""
	case strings.HasPrefix(s, "local:"):
		return s
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil {
			return "(hidden)"
		}
		out := u.Scheme + "://"
		if u.User != nil && u.User.Username() != "" {
			out += u.User.Username() + "@"
		}
		return out + u.Host + u.EscapedPath()
	case strings.Contains(s, "="):
		kv, err := parseKeyValueDSN(s)
		if err != nil {
			return "(hidden)"
		}
		out := "postgres://"
		if kv["user"] != "" {
			out += kv["user"] + "@"
		}
		host := kv["host"]
		if host == "" {
			host = kv["hostaddr"]
		}
		if strings.HasPrefix(host, "/") {
			host = url.PathEscape(host)
		}
		out += host
		if kv["port"] != "" {
			out += ":" + kv["port"]
		}
		if kv["dbname"] != "" {
			out += "/" + kv["dbname"]
		}
		return out
	}
	return "(hidden)"
}

// RedactHTTPURL removes credentials and query values from an HTTP URL.
func RedactHTTPURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(hidden)"
	}
	u.User = nil
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment = ""
	return u.String()
}

// parseKeyValueDSN parses a libpq "key=value key='quoted value'" string.
func parseKeyValueDSN(s string) (map[string]string, error) {
	out := map[string]string{}
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		start := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		key := s[start:i]
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if key == "" || i == len(s) || s[i] != '=' {
			return nil, errors.New("expected key=value")
		}
		for j := 0; j < len(key); j++ {
			c := key[j]
			if !(c >= 'a' && c <= 'z' || c == '_') {
				return nil, errors.New("bad key")
			}
		}
		i++
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '\'' {
					closed = true
					i++
					break
				}
				val.WriteByte(c)
				i++
			}
			if !closed {
				return nil, errors.New("unterminated quote")
			}
		} else {
			for i < len(s) && !isSpace(s[i]) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				val.WriteByte(c)
				i++
			}
		}
		out[key] = val.String()
	}
	if len(out) == 0 {
		return nil, errors.New("empty")
	}
	return out, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isIdent reports whether s matches [a-z][a-z0-9_]* (names of systems,
// objects and fields).
func isIdent(s string) bool {
	if s == "" || len(s) > 63 || !(s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isSlug reports whether s matches [a-z0-9][a-z0-9_.-]* and is at most 63
// bytes (plan, check and integration names).
func isSlug(s string) bool {
	if s == "" || len(s) > 63 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isPGIdent reports whether s is a database name for local:DBNAME:
// [a-z_][a-z0-9_]*, at most 63 bytes.
func isPGIdent(s string) bool {
	if s == "" || len(s) > 63 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] == '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// regions are the ISO 3166-1 alpha-2 country codes.
var regions = func() map[string]bool {
	const codes = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
		"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
		"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
		"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
		"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
		"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
		"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
	m := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		m[c] = true
	}
	return m
}()
