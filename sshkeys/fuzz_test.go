package sshkeys

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Fixed keys for seeds, so the corpus does not change between runs.
const (
	seedEd25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIL/ak1BdRA050tjIf05AYEpUTH79d+IqiEhpUG1nO4s"
	seedECDSA   = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBML7RPmEBUrHnbG70IilaUb/09HDedPvKDB6HAHrjedcgluhbgRn72+XweXYKjUDZACji0mlHqBW+y2VZqmhafQ="
)

// FuzzAuthorizedKeysLine: whatever ParseLine accepts, x/crypto/ssh accepts
// too (same key, comment and option count), and our re-marshalled line
// parses back to an equal entry.
func FuzzAuthorizedKeysLine(f *testing.F) {
	for _, s := range []string{
		seedEd25519,
		seedEd25519 + " alice@example",
		"restrict " + seedECDSA + " c",
		`command="echo \"hi\"",no-pty ` + seedEd25519,
		`from="10.0.0.0/8,!*.bad.example",expiry-time="20300101Z" ` + seedEd25519,
		`cert-authority,principals="a,b" ` + seedECDSA,
		`environment="A=b c",permitopen="h:1",permitlisten="2",tunnel="0" ` + seedEd25519,
		`command="a\\" ` + seedEd25519,
		`command="\"" ` + seedEd25519,
		`NO-PTY ` + seedEd25519 + "\r",
		"ssh-rsa " + strings.Fields(seedEd25519)[1],
		weakRSA,
		"# comment",
		`bogus ` + seedEd25519,
		`command="unterminated ` + seedEd25519,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, err := ParseLine(line)
		if err != nil {
			return
		}
		xk, xc, xopts, _, xerr := ssh.ParseAuthorizedKey([]byte(line))
		if xerr != nil {
			t.Fatalf("we accept, x/crypto refuses: %v", xerr)
		}
		if !e.SameKey(xk) || e.Comment != xc || len(e.Options) != len(xopts) {
			t.Fatalf("differ from x/crypto: comment %q vs %q, %d vs %d options", e.Comment, xc, len(e.Options), len(xopts))
		}
		for i, o := range e.Options {
			if !strings.HasPrefix(strings.ToLower(xopts[i]), strings.ToLower(o.Name)) {
				t.Fatalf("option %d: %q vs %q", i, o.Name, xopts[i])
			}
		}
		out, err := e.Marshal()
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		back, err := ParseLine(out)
		if err != nil {
			t.Fatalf("re-parse %q: %v", out, err)
		}
		if !back.Equal(e) {
			t.Fatalf("re-parse differs: %q", out)
		}
	})
}

// FuzzFormatAuthorizedKey: whatever the values, the output is exactly one
// line (no LF, CR or NUL) or an error; and what is written reads back with
// the same options.
func FuzzFormatAuthorizedKey(f *testing.F) {
	f.Add("me@host", "echo hi", "10.0.0.0/8", "A=b", "h:22", "alice", true, "20300101Z")
	f.Add("a\nb", `echo "x"`, "*.example.com,!x", "", "", "", false, "")
	f.Add("", "ls\r", "", "X=\x00", "", "a,b", true, "")
	f.Add("c", `tail\`, "::1", "B_1=v\\", "[::1]:80", "p", true, "bad")
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(seedEd25519))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, comment, command, from, env, permitOpen, principals string, ca bool, expiry string) {
		o := Options{Command: command, CertAuthority: ca, Restrict: true}
		if from != "" {
			o.From = strings.Split(from, ",")
		}
		if env != "" {
			o.Environment = []string{env}
		}
		if permitOpen != "" {
			o.PermitOpen = []string{permitOpen}
		}
		if principals != "" {
			o.Principals = strings.Split(principals, ",")
		}
		if t0, err := ParseExpiry(expiry); err == nil {
			o.Expires = t0
		}
		e, err := NewEntry(key, o, comment)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		line, err := e.Marshal()
		if err != nil {
			return
		}
		if strings.ContainsAny(line, "\n\r\x00") {
			t.Fatalf("not one line: %q", line)
		}
		back, err := ParseLine(line)
		if err != nil {
			t.Fatalf("our own line %q does not parse: %v", line, err)
		}
		if !back.Equal(e) {
			t.Fatalf("re-parse differs: %q", line)
		}
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil {
			t.Fatalf("x/crypto refuses %q: %v", line, err)
		}
		if !o.Expires.IsZero() && !strings.Contains(line, FormatExpiry(o.Expires.In(time.UTC))) {
			t.Fatalf("expiry lost: %q", line)
		}
	})
}
