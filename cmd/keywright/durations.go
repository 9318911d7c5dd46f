package main

// One grammar for every flag that takes a duration or a time (README
// "Durations, times and days"), and the ranges of --days. Durations:
// NUMBER UNIT pairs with Go's units and d (24h) and w (7d): 30d, 2w, 12h,
// 90m, 1h30m, 1.5d; "0" alone. Never negative, and one that does not fit
// in a time.Duration (about 292 years) is refused, never wrapped. Times: a
// date, a date and time, RFC 3339, sshd's YYYYMMDD[HHMM[SS]][Z], or a
// duration from now; years 1 to 9999, after the
// first instant of year 1 (Go's zero time, which means now). Every refusal is a usage error
// (exit 2) naming the flag.

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/sshkeys"
)

// durationUnits are the units of the grammar, in nanoseconds.
var durationUnits = map[string]int64{
	"ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
	"d": 24 * 3600e9, "w": 7 * 24 * 3600e9,
}

// maxDurationText bounds the text of a duration: no real one is longer,
// and a longer one is not worth reading.
const maxDurationText = 64

// rangeError is a duration or time that is well formed but out of range
// (negative, too long for a time.Duration, a year past 9999).
type rangeError struct{ msg string }

func (e *rangeError) Error() string { return e.msg }

// durationExamples is what a message suggests.
const durationExamples = "a duration such as 30d, 2w, 12h or 90m"

// parseDuration reads a duration of the grammar. Its errors do not repeat
// s: the caller names the flag and its value.
func parseDuration(s string) (time.Duration, error) {
	switch {
	case s == "0":
		return 0, nil
	case s == "":
		return 0, errorf("empty: give %s", durationExamples)
	case s[0] == '-':
		return 0, &rangeError{"a duration is never negative"}
	case len(s) > maxDurationText:
		return 0, errorf("not %s", durationExamples)
	}
	total := new(big.Rat)
	for rest := s; rest != ""; {
		num, unit, tail := splitDurationTerm(rest)
		n, ok := new(big.Rat).SetString(num)
		if num == "" || num == "." || !ok || strings.ContainsAny(unit, "-+:/ TZ") {
			return 0, errorf("not %s", durationExamples)
		}
		u, ok := durationUnits[unit]
		switch {
		case unit == "":
			return 0, newError("a number needs a unit, as in 30d, 12h, 90m or 30s")
		case !ok:
			return 0, errorf("unknown unit %q: use w, d, h, m, s, ms, us or ns", unit)
		}
		total.Add(total, n.Mul(n, new(big.Rat).SetInt64(u)))
		rest = tail
	}
	ns := new(big.Int).Quo(total.Num(), total.Denom()) // floor: both are positive
	if !ns.IsInt64() {
		return 0, &rangeError{fmt.Sprintf("a duration is at most %dd (about 292 years)", math.MaxInt64/durationUnits["d"])}
	}
	return time.Duration(ns.Int64()), nil
}

// splitDurationTerm splits the first NUMBER UNIT pair off s: the number
// (digits and a point), the unit (up to the next digit or point) and the
// rest.
func splitDurationTerm(s string) (num, unit, rest string) {
	i := strings.IndexFunc(s, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	if i < 0 {
		return s, "", ""
	}
	j := strings.IndexFunc(s[i:], func(r rune) bool { return r >= '0' && r <= '9' || r == '.' })
	if j < 0 {
		return s[:i], s[i:], ""
	}
	return s[:i], s[i : i+j], s[i+j:]
}

// timeLayouts are the date forms of the grammar, in UTC unless the text
// carries a zone (RFC 3339).
var timeLayouts = []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339}

// timeExamples is what a message suggests.
const timeExamples = "give a date (2027-01-31), RFC 3339 (2027-01-31T12:00:00Z), YYYYMMDD[HHMM[SS]][Z] or a duration from now (30d)"

// parseTime reads a time of the grammar: a date (midnight UTC), a date and
// time (UTC), RFC 3339, sshd's YYYYMMDD[HHMM[SS]][Z] (without Z the local
// time, as sshd reads it), or a duration from now.
func parseTime(s string, now time.Time) (time.Time, error) {
	t, err := parseTimeText(s, now)
	if err != nil {
		return t, err
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, &rangeError{fmt.Sprintf("year %d: a time is in the years 1 to 9999", y)}
	}
	if t.IsZero() {
		// Go's zero time: crypto/x509 and ca.Verify read it as "now"
		return time.Time{}, &rangeError{"0001-01-01T00:00:00Z is Go's zero time, read as now: give a later time"}
	}
	return t, nil
}

func parseTimeText(s string, now time.Time) (time.Time, error) {
	if digits := strings.TrimSuffix(s, "Z"); digits != "" && strings.Trim(digits, "0123456789") == "" {
		if t, err := sshkeys.ParseExpiry(s); err == nil {
			return t, nil
		}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	d, err := parseDuration(s)
	var r *rangeError
	switch {
	case err == nil:
		return now.Add(d), nil
	case errors.As(err, &r):
		return time.Time{}, err
	}
	return time.Time{}, errorf("not a time: %s", timeExamples)
}

// durationFlag reads flag's value as a duration (exit 2 if it is not one).
func durationFlag(flag, v string) (time.Duration, error) {
	d, err := parseDuration(v)
	if err != nil {
		return 0, usagef("%s %q: %w", flag, v, err)
	}
	return d, nil
}

// timeFlag reads flag's value as a time (exit 2 if it is not one).
func timeFlag(flag, v string, now time.Time) (time.Time, error) {
	t, err := parseTime(v, now)
	if err != nil {
		return t, usagef("%s %q: %w", flag, v, err)
	}
	return t, nil
}

// expiresFlag reads an authorized_keys --expires: a time of the grammar,
// after now as sshd will read it (written to the minute, in UTC), since a
// key that has expired already is refused by sshd at once.
func expiresFlag(v string, now time.Time) (time.Time, error) {
	t, err := timeFlag("--expires", v, now)
	if err != nil {
		return t, err
	}
	if written := t.UTC().Truncate(time.Minute); !written.After(now) {
		return t, usagef("--expires %q: %s is not in the future: sshd would refuse the key at once", v, written.Format("2006-01-02T15:04Z"))
	}
	return t, nil
}

// durationMapper makes kong read every time.Duration flag (--timeout,
// --lock-timeout) with the grammar; kong names the flag in its error.
func durationMapper() kong.MapperFunc {
	return func(ctx *kong.DecodeContext, target reflect.Value) error {
		s, err := popValue(ctx)
		if err != nil {
			return err
		}
		d, err := parseDuration(s)
		if err != nil {
			return errorf("%q: %w", s, err)
		}
		target.SetInt(int64(d))
		return nil
	}
}

// decimalIntMapper makes kong read every int flag (--days, --bits,
// --jobs, --path-len) as a decimal whole number: kong's own reading takes
// Go's prefixes, so --days 010 would be 8 days (octal) and 0x10 16.
func decimalIntMapper() kong.MapperFunc {
	return func(ctx *kong.DecodeContext, target reflect.Value) error {
		s, err := popValue(ctx)
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(s, 10, target.Type().Bits())
		if err != nil {
			return errorf("expected a whole number (decimal digits) but got %q", s)
		}
		target.SetInt(n)
		return nil
	}
}

// positiveDuration refuses a flag's duration of 0 (a --timeout).
func positiveDuration(flag string, d time.Duration) error {
	if d <= 0 {
		return usagef("%s %s: must be more than 0", flag, d)
	}
	return nil
}

// dayRange is what a --days accepts (README "Durations, times and days"):
// 1 to max; not given (nil) is 0, the command's default.
type dayRange struct {
	max  int
	what string // "a certificate is valid for"
}

var (
	leafDays    = dayRange{ca.MaxLeafDays, "a certificate is valid for"} // issue, ca sign, renew, cert self-sign
	caDays      = dayRange{ca.MaxCADays, "a CA is valid for"}            // ca init, ca sign --profile ca
	crlDays     = dayRange{ca.MaxCRLDays, "a CRL's next update is"}      // ca crl
	sshCertDays = dayRange{sshkeys.MaxCertDays, "an SSH certificate is valid for"}
)

// check refuses a --days outside the range (exit 2); nil is 0.
func (r dayRange) check(days *int) (int, error) {
	if days == nil {
		return 0, nil
	}
	return r.checkInt(*days)
}

// checkInt refuses days outside the range (a flag with a default).
func (r dayRange) checkInt(days int) (int, error) {
	if msg := r.outside(days); msg != "" {
		return 0, usagef("--days %d: %s", days, msg)
	}
	return days, nil
}

// outside says why days is out of the range, or "" when it is in.
func (r dayRange) outside(days int) string {
	if days >= 1 && days <= r.max {
		return ""
	}
	years := ""
	if r.max >= 3650 {
		years = fmt.Sprintf(" (%d years)", r.max/365)
	}
	return fmt.Sprintf("%s 1 to %d days%s", r.what, r.max, years)
}

// intOr0 is *p, or 0 for a flag not given.
func intOr0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// maxJobs bounds --jobs (batch, ssh install/uninstall/rotate): more
// goroutines than that buy nothing on any machine keywright runs on.
const maxJobs = 256

// jobsFlag refuses a --jobs outside 1 to maxJobs (exit 2).
func jobsFlag(n int) error {
	if n < 1 || n > maxJobs {
		return usagef("--jobs %d: give 1 to %d", n, maxJobs)
	}
	return nil
}
