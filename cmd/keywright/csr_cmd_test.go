package main

import (
	"os/exec"
	"testing"
)

// shellQuote's output is read back by sh as the same single word.
func TestShellQuote(t *testing.T) {
	tests := map[string]string{
		"":                  "''",
		"web.example":       "web.example",
		"ip:10.0.0.1":       "ip:10.0.0.1",
		"Example Inc":       "'Example Inc'",
		"O'Brien & Sons":    `'O'\''Brien & Sons'`,
		"/C=DE/O=R\\/D":     `'/C=DE/O=R\/D'`,
		"*.example.com":     "'*.example.com'",
		"$HOME`id`;rm":      "'$HOME`id`;rm'",
		"Bücher.example":    "'Bücher.example'",
		"a\nb":              "'a\nb'",
		"--san=x@y.example": "--san=x@y.example",
	}
	for in, want := range tests {
		got := shellQuote(in)
		if got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
		out, err := exec.Command("sh", "-c", `printf '%s' `+got).Output()
		if err != nil || string(out) != in {
			t.Errorf("sh read %s as %q (%v), want %q", got, out, err, in)
		}
	}
}
