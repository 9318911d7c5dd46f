package main

import (
	"bytes"
	"strings"
	"testing"
)

// A 20-octet serial (the most RFC 5280 allows) keeps the columns aligned
// with keywright's own 17-octet ones.
func TestListColumnsAlignLongestSerial(t *testing.T) {
	var out bytes.Buffer
	w := newListWriter(&Env{Stdout: &out}, []string{"web", "imported"})
	own, longest := strings.Repeat("0a", 17), strings.Repeat("7f", 20)
	for _, serial := range []string{own, longest} {
		if err := w.line("web", "root", serial, "2027-01-01", "valid"); err != nil {
			t.Fatal(err)
		}
	}
	rows := strings.Split(strings.TrimSpace(out.String()), "\n")
	if a, b := strings.Index(rows[0], "2027-01-01"), strings.Index(rows[1], "2027-01-01"); a != b || a < 0 {
		t.Fatalf("NOT AFTER column at %d and %d:\n%s", a, b, out.String())
	}
}
