package normalize

import (
	"strconv"
	"testing"
	"time"
)

func TestNormDate(t *testing.T) {
	type testcase = normTestCase
	n := normTestNormalizer(t) // SE, Europe/Stockholm: day first
	normRunCases(t, n.Date, []testcase{
		{"canonical", "2024-03-05", "2024-03-05", Unchanged},
		{"ISO slashes", "2024/03/05", "2024-03-05", Normalized},
		{"ISO dots", "2024.03.05", "2024-03-05", Normalized},
		{"ISO no padding", "2024-3-5", "2024-03-05", Normalized},
		{"basic ISO", "20240305", "2024-03-05", Normalized},
		{"day first slashes", "05/03/2024", "2024-03-05", Normalized},
		{"day first no padding", "5/3/2024", "2024-03-05", Normalized},
		{"day first dots", "5.3.2024", "2024-03-05", Normalized},
		{"day first dots padded", "05.03.2024", "2024-03-05", Normalized},
		{"day first hyphens", "05-03-2024", "2024-03-05", Normalized},
		{"only month-first is a date", "03/25/2024", "2024-03-25", Normalized},
		{"leap day", "29/02/2024", "2024-02-29", Normalized},
		{"English month first", "March 5, 2024", "2024-03-05", Normalized},
		{"English abbreviation", "5 Mar 2024", "2024-03-05", Normalized},
		{"English day first full", "5 March 2024", "2024-03-05", Normalized},
		{"English no comma", "Mar 5 2024", "2024-03-05", Normalized},
		{"hyphenated", "5-Mar-2024", "2024-03-05", Normalized},
		{"upper case", "05-MAR-2024", "2024-03-05", Normalized},
		{"ISO with month name", "2024-Mar-05", "2024-03-05", Normalized},
		{"weekday", "Tue, 5 Mar 2024", "2024-03-05", Normalized},
		{"weekday and ordinal", "Tuesday, March 5th, 2024", "2024-03-05", Normalized},
		{"ordinal first", "1st April 2024", "2024-04-01", Normalized},
		{"abbreviation with dot", "5 Sept. 2024", "2024-09-05", Normalized},
		{"German", "5. März 2024", "2024-03-05", Normalized},
		{"German abbreviation", "05. Okt. 2024", "2024-10-05", Normalized},
		{"French", "5 mars 2024", "2024-03-05", Normalized},
		{"French first", "1er février 2024", "2024-02-01", Normalized},
		{"French accentless", "15 aout 2024", "2024-08-15", Normalized},
		{"Swedish", "5 maj 2024", "2024-05-05", Normalized},
		{"Swedish weekday", "tisdag 5 mars 2024", "2024-03-05", Normalized},
		{"with local time", "2024-03-05 14:30", "2024-03-05", Normalized},
		{"with local time T", "2024-03-05T23:59:59", "2024-03-05", Normalized},
		{"day first with time", "05/03/2024 23:30", "2024-03-05", Normalized},
		{"UTC morning", "2024-03-05T10:00:00Z", "2024-03-05", Normalized},
		{"UTC late evening moves to Stockholm date", "2024-03-05T23:30:00Z", "2024-03-06", Normalized},
		{"offset early morning", "2024-03-05T00:30:00+01:00", "2024-03-05", Normalized},
		{"offset from New York", "2024-03-05T20:00:00-05:00", "2024-03-06", Normalized},
		{"midnight UTC is a plain date", "2024-03-05T00:00:00Z", "2024-03-05", Normalized},
		{"midnight UTC with millis", "2024-03-05T00:00:00.000Z", "2024-03-05", Normalized},
		{"RFC 1123", "Tue, 05 Mar 2024 23:30:00 +0000", "2024-03-06", Normalized},
		{"Unix millis midnight UTC", "1709596800000", "2024-03-05", Normalized},
		{"Unix seconds", "1709645400", "2024-03-05", Normalized},
		{"spaces", "  2024-03-05 ", "2024-03-05", Normalized},
		{"empty", "", "", Empty},
		{"blank", "\t", "", Empty},
		{"31 February", "31/02/2024", "31/02/2024", Invalid},
		{"month 13", "2024-13-01", "2024-13-01", Invalid},
		{"zeros", "00/00/0000", "00/00/0000", Invalid},
		{"30 February", "2024-02-30", "2024-02-30", Invalid},
		{"not a leap year", "2023-02-29", "2023-02-29", Invalid},
		{"day 32", "32/01/2024", "32/01/2024", Invalid},
		{"two-digit year", "05/03/24", "05/03/24", Invalid},
		{"two-digit year dots", "5.3.24", "5.3.24", Invalid},
		{"two-digit year with month name", "5 Mar 24", "5 Mar 24", Invalid},
		{"TBD", "TBD", "TBD", Invalid},
		{"month and year", "March 2024", "March 2024", Invalid},
		{"year", "2024", "2024", Invalid},
		{"unknown month", "5 Foo 2024", "5 Foo 2024", Invalid},
		{"two months", "March May 5 2024", "March May 5 2024", Invalid},
		{"bad hour", "2024-03-05 25:00", "2024-03-05 25:00", Invalid},
		{"bad offset", "2024-03-05T14:30:00+25:00", "2024-03-05T14:30:00+25:00", Invalid},
		{"trailing words", "2024-03-05 approx", "2024-03-05 approx", Invalid},
		{"mixed separators", "05/03-2024", "05/03-2024", Invalid},
		{"year zero", "0000-01-01", "0000-01-01", Invalid},
		{"Unix with leading zero", "0709596800", "0709596800", Invalid},
		{"nine digits", "170959680", "170959680", Invalid},
	})

	us := New(Options{Region: "US"})
	normRunCases(t, us.Date, []testcase{
		{"US month first", "03/05/2024", "2024-03-05", Normalized},
		{"US month first other", "05/03/2024", "2024-05-03", Normalized},
		{"US only day-first is a date", "25/03/2024", "2024-03-25", Normalized},
		{"US dots stay day first", "5.3.2024", "2024-03-05", Normalized},
		{"US ISO", "2024-03-05", "2024-03-05", Unchanged},
	})

	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	nyn := New(Options{Region: "US", Location: ny})
	normRunCases(t, nyn.Date, []testcase{
		{"midnight UTC keeps its date", "2024-03-05T00:00:00Z", "2024-03-05", Normalized},
		{"early UTC is the day before in New York", "2024-03-05T03:00:00Z", "2024-03-04", Normalized},
		{"local time is not moved", "2024-03-05 01:00", "2024-03-05", Normalized},
	})
}

func TestNormDateTime(t *testing.T) {
	type testcase = normTestCase
	n := normTestNormalizer(t) // Europe/Stockholm: +01:00 in March, +02:00 in July
	unix := time.Date(2024, 3, 5, 13, 30, 0, 0, time.UTC)
	normRunCases(t, n.DateTime, []testcase{
		{"canonical", "2024-03-05T13:30:00Z", "2024-03-05T13:30:00Z", Unchanged},
		{"RFC 3339 offset", "2024-03-05T14:30:00+01:00", "2024-03-05T13:30:00Z", Normalized},
		{"RFC 3339 negative offset", "2024-03-05T08:30:00-05:00", "2024-03-05T13:30:00Z", Normalized},
		{"RFC 3339 fraction dropped", "2024-03-05T13:30:00.999Z", "2024-03-05T13:30:00Z", Normalized},
		{"lower-case t and z", "2024-03-05t13:30:00z", "2024-03-05T13:30:00Z", Normalized},
		{"local minutes", "2024-03-05 14:30", "2024-03-05T13:30:00Z", Normalized},
		{"local seconds", "2024-03-05 14:30:00", "2024-03-05T13:30:00Z", Normalized},
		{"local T", "2024-03-05T14:30", "2024-03-05T13:30:00Z", Normalized},
		{"local summer time", "2024-07-05 14:30", "2024-07-05T12:30:00Z", Normalized},
		{"day first with time", "05/03/2024 14:30", "2024-03-05T13:30:00Z", Normalized},
		{"dots with time", "5.3.2024 14:30", "2024-03-05T13:30:00Z", Normalized},
		{"month name with PM", "March 5, 2024 2:30 PM", "2024-03-05T13:30:00Z", Normalized},
		{"month name with at", "March 5, 2024 at 2:30 pm", "2024-03-05T13:30:00Z", Normalized},
		{"12 AM is midnight", "March 5, 2024 12:00 AM", "2024-03-04T23:00:00Z", Normalized},
		{"12 PM is noon", "2024-03-05 12:00 PM", "2024-03-05T11:00:00Z", Normalized},
		{"PostgreSQL timestamptz", "2024-03-05 14:30:00.123456+01", "2024-03-05T13:30:00Z", Normalized},
		{"offset without colon", "2024-03-05 14:30:00 +0100", "2024-03-05T13:30:00Z", Normalized},
		{"UTC word", "2024-03-05T13:30:00 UTC", "2024-03-05T13:30:00Z", Normalized},
		{"RFC 1123", "Tue, 05 Mar 2024 13:30:00 GMT", "2024-03-05T13:30:00Z", Normalized},
		{"date alone is local midnight", "2024-03-05", "2024-03-04T23:00:00Z", Normalized},
		{"basic ISO with time", "20240305T133000Z", "20240305T133000Z", Invalid},
		{"Unix seconds", strconv.FormatInt(unix.Unix(), 10), "2024-03-05T13:30:00Z", Normalized},
		{"Unix millis", strconv.FormatInt(unix.UnixMilli()+123, 10), "2024-03-05T13:30:00Z", Normalized},
		{"spaces", " 2024-03-05T13:30:00Z ", "2024-03-05T13:30:00Z", Normalized},
		{"empty", "", "", Empty},
		{"bad hour", "2024-03-05 25:00", "2024-03-05 25:00", Invalid},
		{"bad minute", "2024-03-05 14:60", "2024-03-05 14:60", Invalid},
		{"leap second", "2024-03-05T23:59:60Z", "2024-03-05T23:59:60Z", Invalid},
		{"bad date", "2024-02-30 10:00", "2024-02-30 10:00", Invalid},
		{"bad offset", "2024-03-05T14:30:00+2500", "2024-03-05T14:30:00+2500", Invalid},
		{"13 PM", "2024-03-05 13:00 PM", "2024-03-05 13:00 PM", Invalid},
		{"words", "yesterday", "yesterday", Invalid},
		{"six digits", "123456", "123456", Invalid},
		{"zeros", "0000000000", "0000000000", Invalid},
		{"zone name", "2024-03-05 14:30 CET", "2024-03-05 14:30 CET", Invalid},
	})
}
