//go:build linux

package main

import (
	"regexp"
	"strings"
	"testing"
)

var (
	// transcriptQuestion is a "? QUESTION ANSWER" line of the csr prompt.
	transcriptQuestion = regexp.MustCompile(`^\? (Common name \(CN\)|Organization \(O\)|Organizational unit \(OU\)|` +
		`Locality \(L\)|State or province \(ST\)|Country \(C\)|Subject alternative name \d+ \(empty to finish\)|Key type)(?: (.*))?$`)
	terminalControl = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]|\r`)
)

// The README's csr transcript (README "A certificate from a public CA") is
// what the prompt does: its answers, typed on a pseudo-terminal, give every
// line it shows, in order, and the command line it prints is the one its
// walkthrough runs.
func TestReadmeCSRTranscript(t *testing.T) {
	tr, ok := readmeBlocksBy(t, "transcript")["public-csr"]
	if !ok {
		t.Fatal("README has no transcript=public-csr block")
	}
	lines := tr.body
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	args, ok := strings.CutPrefix(lines[0], "$ keywright ")
	if !ok || len(lines) < 10 {
		t.Fatalf("README.md:%d: not a keywright transcript", tr.line)
	}
	t.Chdir(t.TempDir()) // the default store, ./pki, as in the README
	s := startPTY(t, map[string]string{"XDG_CONFIG_HOME": "/nonexistent/keywright-test"}, strings.Fields(args)...)
	for _, l := range lines[1:] {
		m := transcriptQuestion.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		keys := m[2] + keyEnter
		if m[1] == "Key type" {
			keys = strings.Repeat(keyDown, keyChoiceIndex(t, m[2])) + keyEnter
		}
		s.answer(m[1], keys)
	}
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, s.screenText())
	}
	screen := terminalControl.ReplaceAllString(s.raw.String(), "")
	for i, want := range lines[1:] {
		at := strings.Index(screen, want)
		if at < 0 {
			t.Fatalf("README.md:%d: %q is not what the prompt shows (next):\n%s", tr.line+1+i, want, screen)
		}
		screen = screen[at+len(want):]
	}
	_, printed, ok := strings.Cut(lines[len(lines)-1], "without questions: ")
	walk := readmeBlocksBy(t, "walkthrough")["public-csr"]
	if !ok || !strings.Contains(strings.Join(walk.body, "\n"), "\n"+printed+"\n") && walk.body[0] != printed {
		t.Errorf("the walkthrough public-csr does not run the printed command %q", printed)
	}
}

// keyChoiceIndex is how many times to press Down from the first choice,
// the default.
func keyChoiceIndex(t *testing.T, choice string) int {
	t.Helper()
	for i, k := range keyChoices {
		if k.String() == choice {
			return i
		}
	}
	t.Fatalf("%q is not a key type the prompt offers", choice)
	return 0
}
