package main

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	good := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"0d", 0},
		{"30d", 30 * day},
		{"2w", 14 * day},
		{"12h", 12 * time.Hour},
		{"90m", 90 * time.Minute},
		{"45s", 45 * time.Second},
		{"1h30m", 90 * time.Minute},
		{"2w3d", 17 * day},
		{"1.5d", 36 * time.Hour},
		{".5h", 30 * time.Minute},
		{"250ms", 250 * time.Millisecond},
		{"3us", 3 * time.Microsecond},
		{"3µs", 3 * time.Microsecond},
		{"7ns", 7},
		{"106751d", 106751 * day},
		{"2562047h", 2562047 * time.Hour},
		{"9223372036854775807ns", math.MaxInt64},
		{"106751d23h47m16.854775807s", math.MaxInt64},
	}
	for _, tc := range good {
		got, err := parseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	bad := []struct {
		in, msg   string
		overRange bool
	}{
		{"", "empty", false},
		{"30", "needs a unit", false},
		{"abc", "not a duration", false},
		{"d", "not a duration", false},
		{"1.2.3d", "not a duration", false},
		{"30x", `unknown unit "x"`, false},
		{"30 d", "not a duration", false},
		{"+30d", "not a duration", false},
		{"2027-01-31", "not a duration", false},
		{strings.Repeat("1", 65) + "s", "not a duration", false},
		{"-1d", "never negative", true},
		{"-0s", "never negative", true},
		// past int64 nanoseconds: refused, never wrapped into the past
		{"106752d", "at most 106751d", true},
		{"9999999999h", "at most 106751d", true},
		{"15251w", "at most 106751d", true},
		{"9223372036854775808ns", "at most 106751d", true},
		{"106751d23h47m16.854775808s", "at most 106751d", true},
		{"99999999999999999999999d", "at most 106751d", true},
	}
	for _, tc := range bad {
		got, err := parseDuration(tc.in)
		var r *rangeError
		if err == nil || !strings.Contains(err.Error(), tc.msg) || errors.As(err, &r) != tc.overRange {
			t.Errorf("parseDuration(%q) = %v, %v; want an error with %q (range: %v)", tc.in, got, err, tc.msg, tc.overRange)
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 30, 0, 0, time.UTC)
	good := []struct {
		in   string
		want time.Time
	}{
		{"2027-01-31", time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"2027-01-31T12:00", time.Date(2027, 1, 31, 12, 0, 0, 0, time.UTC)},
		{"2027-01-31T12:00:05", time.Date(2027, 1, 31, 12, 0, 5, 0, time.UTC)},
		{"2027-01-31T12:00:00Z", time.Date(2027, 1, 31, 12, 0, 0, 0, time.UTC)},
		{"2027-01-31T12:00:00+02:00", time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC)},
		{"2027-01-31T12:00:00.5Z", time.Date(2027, 1, 31, 12, 0, 0, 5e8, time.UTC)},
		{"20270131Z", time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"202701311530Z", time.Date(2027, 1, 31, 15, 30, 0, 0, time.UTC)},
		{"20270131153045Z", time.Date(2027, 1, 31, 15, 30, 45, 0, time.UTC)},
		{"20270131", time.Date(2027, 1, 31, 0, 0, 0, 0, time.Local)},
		{"30d", now.Add(30 * 24 * time.Hour)},
		{"12h", now.Add(12 * time.Hour)},
		{"0", now},
		{"106751d", now.Add(106751 * 24 * time.Hour)},
		{"9999-12-31T23:59:59Z", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"0001-01-01T00:00:01Z", time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)},
	}
	for _, tc := range good {
		got, err := parseTime(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	bad := []struct{ in, msg string }{
		{"", "not a time"},
		{"tomorrow", "not a time"},
		{"2027-13-01", "not a time"},
		{"2027-02-30", "not a time"},
		{"20300102T", "not a time"},
		{"2027013", "not a time"},
		{"30", "not a time"},
		{"-30d", "never negative"},
		{"106752d", "at most 106751d"},
		{"9999999999h", "at most 106751d"},
		{"0000-01-01", "year 0"},
		{"0001-01-01", "zero time"},
		{"00010101000000Z", "zero time"},
		{"9999-12-31T23:59:59-10:00", "year 10000"},
	}
	for _, tc := range bad {
		got, err := parseTime(tc.in, now)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parseTime(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.msg)
		}
	}
}

func TestExpiresFlag(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 30, 20, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want string // as written into authorized_keys; "" for refused
	}{
		{"30d", "202605311030Z"},
		{"2030-01-02", "203001020000Z"},
		{"99991231Z", "999912310000Z"},
		{"99991231235959Z", "999912312359Z"},
		{"1m", "202605011031Z"},
		{"30s", ""}, // 10:30:50 is written as 10:30, before now
		{"0", ""},
		{"2000-01-01", ""},
		{"2026-05-01T10:30:00Z", ""},
		{"106752d", ""},
	} {
		got, err := expiresFlag(tc.in, now)
		switch {
		case tc.want == "" && (err == nil || exitCode(err) != exitUsage):
			t.Errorf("expiresFlag(%q) = %v, %v; want a usage error", tc.in, got, err)
		case tc.want != "" && err != nil:
			t.Errorf("expiresFlag(%q): %v", tc.in, err)
		case tc.want != "" && formatExpiry(got) != tc.want:
			t.Errorf("expiresFlag(%q) = %s, want %s", tc.in, formatExpiry(got), tc.want)
		}
	}
}

func formatExpiry(t time.Time) string { return t.UTC().Format("200601021504") + "Z" }

func TestDayRanges(t *testing.T) {
	ptr := func(n int) *int { return &n }
	for _, tc := range []struct {
		r    dayRange
		in   *int
		want int
		ok   bool
	}{
		{leafDays, nil, 0, true},
		{leafDays, ptr(1), 1, true},
		{leafDays, ptr(825), 825, true},
		{leafDays, ptr(0), 0, false},
		{leafDays, ptr(-1), 0, false},
		{leafDays, ptr(826), 0, false},
		{caDays, ptr(10950), 10950, true},
		{caDays, ptr(10951), 0, false},
		{caDays, ptr(106752), 0, false},
		{caDays, ptr(math.MaxInt), 0, false},
		{crlDays, ptr(3650), 3650, true},
		{crlDays, ptr(3651), 0, false},
		{sshCertDays, ptr(10950), 10950, true},
		{sshCertDays, ptr(0), 0, false},
	} {
		got, err := tc.r.check(tc.in)
		if got != tc.want || (err == nil) != tc.ok || (err != nil && exitCode(err) != exitUsage) {
			t.Errorf("%s check(%v) = %d, %v; want %d, ok %v", tc.r.what, tc.in, got, err, tc.want, tc.ok)
		}
	}
}
