package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// The one rule for messages (README "Output and exit codes"): an error or
// warning line names no Go package and shows no Go internals (types,
// parser states, rune syntax, format mistakes).
var (
	packageName     = regexp.MustCompile(`(^|: )(store|ca|csr|keygen|sshkeys|remote|trust|fault|main|x509|asn1|pem|pkix|ssh|agent|knownhosts|pkcs12|pkcs8|tls|idna|yaml|csv|json|strconv|sql|sqlite|url|net|os|exec): `)
	checkLine       = regexp.MustCompile(`^keywright: \S+: (?:validity|chain|revocation|host|key): (.*)$`)
	afterLineNumber = regexp.MustCompile(`\.ya?ml:\d+$`)
	goInternals     = regexp.MustCompile(`\{class:|tag:\d|U\+[0-9A-F]{4}|"EOL"|%!|<nil>|0x[0-9a-f]{8}|\*[a-z0-9]+\.[A-Z]\w+|struct \{|goroutine |runtime error|\(MISSING\)|<EOL>|\(short flag\)|openSSH\w+|unmarshal error for field`)
)

// ruleBroken says how line (a "keywright: error:" or "keywright: warning:"
// line) breaks the rule, or "" when it does not.
func ruleBroken(line string) string {
	msg, ok := strings.CutPrefix(line, "keywright: error: ")
	if !ok {
		if msg, ok = strings.CutPrefix(line, "keywright: warning: "); !ok {
			// verify's failed checks: "keywright: FILE: CHECK: why"
			m := checkLine.FindStringSubmatch(line)
			if m == nil {
				return ""
			}
			msg = m[1]
		}
	}
	for _, loc := range packageName.FindAllStringIndex(msg, -1) {
		// After a YAML FILE:LINE, a word and a colon is a key of that line
		// (a configuration file's "ca:"), not a package.
		if !afterLineNumber.MatchString(msg[:loc[0]]) {
			return "a package name (" + strings.TrimPrefix(msg[loc[0]:loc[1]], ": ") + ")"
		}
	}
	if m := goInternals.FindString(msg); m != "" {
		return "Go internals (" + m + ")"
	}
	return ""
}

// checkErrorRule fails the script when what keywright printed on stderr
// breaks the rule: every kw command of every script is checked.
func checkErrorRule(ts *testscript.TestScript) {
	for _, line := range strings.Split(ts.ReadFile("stderr"), "\n") {
		if why := ruleBroken(line); why != "" {
			ts.Fatalf("message breaks the one rule, %s: %s", why, line)
		}
	}
}

// Every error line the scripts expect follows the rule too (issue 12:
// the expectations are the contract people read).
func TestExpectedErrorLinesFollowTheRule(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	expectation := regexp.MustCompile(`^\s*(?:\[[^]]*\]\s*)?!?\s*stderr\s+(?:-count=\d+\s+)?'(.*)'\s*$`)
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			m := expectation.FindStringSubmatch(line)
			if m == nil || strings.HasPrefix(strings.TrimSpace(line), "!") {
				continue
			}
			pattern := strings.TrimPrefix(m[1], "^")
			if !strings.HasPrefix(pattern, "keywright: error: ") && !strings.HasPrefix(pattern, "keywright: warning: ") {
				continue
			}
			checked++
			if why := ruleBroken(pattern); why != "" {
				t.Errorf("%s:%d: expects a message with %s: %s", f, i+1, why, m[1])
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d expected error lines found: the pattern no longer reads the scripts", checked)
	}
}

// ruleBroken itself: it catches what issue 12 found, and passes plain
// messages.
func TestRuleBroken(t *testing.T) {
	for line, broken := range map[string]bool{
		"keywright: error: ca: pki/web.csr: csr: bad":                        true,
		"keywright: error: pki/web.crt: already exists":                      false,
		"keywright: error: web: tags don't match (2 vs {class:0 tag:16 x})":  true,
		"keywright: error: a.test: idna: disallowed rune U+0020":             true,
		"keywright: warning: line 3: yaml: did not find expected key":        true,
		"keywright: error: store pki has 2 CAs (ca, int): choose one --ca":   false,
		"keywright: error: x: unexpected type *x509.Certificate":             true,
		"keywright: hint: run 'keywright ca: x' is not an error line at all": false,
		"keywright: error: values.yaml:5: ca: invalid name":                  false,
		"keywright: pki/web.pem: host: x509: certificate is valid for a":     true,
		"keywright: pki/web.pem: chain: signed by an unknown authority":      false,
	} {
		if got := ruleBroken(line) != ""; got != broken {
			t.Errorf("%q: broken %v, want %v", line, got, broken)
		}
	}
}
