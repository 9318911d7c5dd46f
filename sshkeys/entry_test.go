package sshkeys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// weakRSA is a 1024-bit RSA public key (ssh-keygen -t rsa -b 1024).
const weakRSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC4b7AO4IGhafqEFIVk78a7rX4s25gcCVm5y2W3CstUM3KqXghSb3QjuWcqs9wjvzg96s9M3jo81h2QRKgkXB/AsMqEk9qe+dHoZcRKXg+jlqIMqeKE2gfzqY9G/+xi8GhsBpbLGMOit9uPKfK20oJHZdZ2xC6xLD5HZ5iGpHSFUw== weak1024"

func testKey(t testing.TB) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testECKey(t testing.TB) ssh.PublicKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keyText(k ssh.PublicKey) string {
	return strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(k)), "\n")
}

func TestEntryMarshal(t *testing.T) {
	k := testKey(t)
	kt := keyText(k)
	exp := time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)
	tests := []struct {
		name    string
		opts    Options
		comment string
		want    string
	}{
		{"plain", Options{}, "", kt},
		{"comment", Options{}, " me@host ", kt + " me@host"},
		{"restrict first", Options{NoPTY: true, Restrict: true}, "", "restrict,no-pty " + kt},
		{"from", Options{From: []string{"10.0.0.0/8", "!bad.example.com", "*.example.com", "::1"}}, "",
			`from="10.0.0.0/8,!bad.example.com,*.example.com,::1" ` + kt},
		{"command quoted", Options{Command: `echo "hi there"`}, "", `command="echo \"hi there\"" ` + kt},
		{"command backslash", Options{Command: `printf 'a\n'`}, "", `command="printf 'a\n'" ` + kt},
		{"expiry", Options{Expires: exp}, "", `expiry-time="203001020304Z" ` + kt},
		{"expiry other zone", Options{Expires: exp.In(time.FixedZone("X", 3600))}, "", `expiry-time="203001020304Z" ` + kt},
		{"all flags", Options{NoPortForwarding: true, NoAgentForwarding: true, NoPTY: true, NoX11Forwarding: true, NoUserRC: true}, "",
			"no-port-forwarding,no-agent-forwarding,no-pty,no-X11-forwarding,no-user-rc " + kt},
		{"permits", Options{PermitOpen: []string{"localhost:80", "[::1]:443", "*:*"}, PermitListen: []string{"8080", "localhost:9000"}}, "",
			`permitopen="localhost:80",permitopen="[::1]:443",permitopen="*:*",permitlisten="8080",permitlisten="localhost:9000" ` + kt},
		{"ca principals", Options{CertAuthority: true, Principals: []string{"alice", "deploy"}}, "",
			`cert-authority,principals="alice,deploy" ` + kt},
		{"environment tunnel", Options{Environment: []string{"A=1", "B_2=x y"}, Tunnel: "0"}, "",
			`environment="A=1",environment="B_2=x y",tunnel="0" ` + kt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEntry(k, tt.opts, tt.comment)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			// Round trip: ours and x/crypto both read it back.
			back, err := ParseLine(got)
			if err != nil {
				t.Fatalf("ParseLine: %v", err)
			}
			if !back.Equal(e) {
				t.Fatalf("round trip: %+v != %+v", back, e)
			}
			xk, xc, _, _, err := ssh.ParseAuthorizedKey([]byte(got))
			if err != nil || xc != e.Comment || !back.SameKey(xk) {
				t.Fatalf("x/crypto: %v %q", err, xc)
			}
		})
	}
}

func TestNewEntryRefuses(t *testing.T) {
	k := testKey(t)
	weak, _, _, _, err := ssh.ParseAuthorizedKey([]byte(weakRSA))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     ssh.PublicKey
		opts    Options
		comment string
		want    string
	}{
		{"rsa 1024", weak, Options{}, "", "rsa key of 1024 bits"},
		{"newline in comment", k, Options{}, "a\nssh-ed25519 AAAA evil", "newline, carriage return or NUL"},
		{"CR in comment", k, Options{}, "a\rb", "newline, carriage return or NUL"},
		{"NUL in command", k, Options{Command: "ls\x00rm"}, "", "newline, carriage return or NUL"},
		{"newline in command", k, Options{Command: "ls\nrm -rf /"}, "", "newline, carriage return or NUL"},
		{"trailing backslash", k, Options{Command: `echo \`}, "", "cannot end with a backslash"},
		{"principals without ca", k, Options{Principals: []string{"alice"}}, "", "principals= applies only to a cert-authority key"},
		{"bad principal", k, Options{CertAuthority: true, Principals: []string{"a b"}}, "", `principal "a b"`},
		{"bad cidr", k, Options{From: []string{"10.0.0.0/33"}}, "", "not a CIDR block"},
		{"host bits", k, Options{From: []string{"10.0.0.1/8"}}, "", "host bits set; did you mean 10.0.0.0/8"},
		{"bad pattern", k, Options{From: []string{"bad host"}}, "", `pattern "bad host"`},
		{"quote pattern", k, Options{From: []string{`a"b`}}, "", "only letters"},
		{"empty pattern", k, Options{From: []string{""}}, "", "empty pattern"},
		{"permitopen no port", k, Options{PermitOpen: []string{"host"}}, "", "want HOST:PORT"},
		{"permitopen bad port", k, Options{PermitOpen: []string{"host:99999"}}, "", `port "99999"`},
		{"permitlisten bad", k, Options{PermitListen: []string{"x"}}, "", `port "x"`},
		{"env no =", k, Options{Environment: []string{"FOO"}}, "", "want NAME=value"},
		{"env bad name", k, Options{Environment: []string{"A-B=1"}}, "", `variable name "A-B"`},
		{"tunnel", k, Options{Tunnel: "-1"}, "", `tunnel "-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEntry(tt.key, tt.opts, tt.comment)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestParseLine(t *testing.T) {
	k := testKey(t)
	kt := keyText(k)
	ok := []struct {
		name, line string
		opts       int
		comment    string
	}{
		{"plain", kt, 0, ""},
		{"comment with spaces", kt + "  a b  c ", 0, "a b  c"},
		{"crlf", kt + " c\r", 0, "c"},
		{"indent", "  \t" + kt, 0, ""},
		{"options", `restrict,command="echo \"x y\"" ` + kt + " c", 2, "c"},
		{"case-insensitive keywords", `NO-PTY,No-X11-Forwarding ` + kt, 2, ""},
		{"quoted space and comma", `from="a.example.com,b.example.com",environment="X=a, b" ` + kt, 2, ""},
		{"sshd date forms", `expiry-time="20300101" ` + kt, 1, ""},
		{"tab after options", "restrict\t" + kt, 1, ""},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseLine(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Options) != tt.opts || e.Comment != tt.comment || !e.SameKey(k) {
				t.Fatalf("got %d options, comment %q", len(e.Options), e.Comment)
			}
		})
	}
	bad := []struct{ name, line, want string }{
		{"garbage", "hello world", "no key found"},
		{"type mismatch", "ssh-rsa " + strings.Fields(kt)[1], `key type "ssh-rsa" does not match the key's own type "ssh-ed25519"`},
		{"type mismatch after options", "restrict ssh-rsa " + strings.Fields(kt)[1], `does not match`},
		{"unknown option", "bogus-option " + kt, `unknown option "bogus-option"`},
		{"unterminated quote", `command="ls ` + kt, "unterminated quote"},
		{"flag with value", `no-pty="x" ` + kt, "no-pty takes no value"},
		{"value missing", `command ` + kt, "command needs a value"},
		{"unquoted value", `command=ls ` + kt, "value must be in double quotes"},
		{"trailing comma", `no-pty, ` + kt, "options end with a comma"},
		{"empty option", `no-pty,,restrict ` + kt, "empty option"},
		{"junk after value", `command="ls"x ` + kt, "unexpected"},
		{"principals alone", `principals="a" ` + kt, "principals= applies only"},
		{"bad expiry", `expiry-time="2030" ` + kt, `date "2030"`},
		{"NUL", kt + " a\x00b", "NUL"},
		{"inner CR", kt + " a\rb", "carriage return"},
		{"too long", kt + " " + strings.Repeat("x", MaxLineLen), "longer than"},
		{"bad base64", "ssh-ed25519 AAAA!!!", "not valid base64"},
		{"truncated key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", "does not parse"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLine(tt.line)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	for _, blank := range []string{"", "   ", "# comment", "  # indented comment", "\r"} {
		if _, err := ParseLine(blank); err != ErrNotEntry {
			t.Errorf("ParseLine(%q) = %v, want ErrNotEntry", blank, err)
		}
	}
}

func TestExpiry(t *testing.T) {
	utc := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"20300102Z":       time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC),
		"203001020304Z":   utc.Truncate(time.Minute),
		"20300102030405Z": utc,
		"20300102":        time.Date(2030, 1, 2, 0, 0, 0, 0, time.Local),
	} {
		got, err := ParseExpiry(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2030", "203001021", "20301301", "2030-01-02", "20300102z", "x0300102"} {
		if _, err := ParseExpiry(in); err == nil {
			t.Errorf("ParseExpiry(%q) accepted", in)
		}
	}
	if got := FormatExpiry(utc); got != "203001020304Z" {
		t.Errorf("FormatExpiry = %s", got)
	}
}

func TestBadLineErrors(t *testing.T) {
	_, err := ParseLine("bogus " + keyText(testKey(t)))
	if !errors.Is(err, ErrBadLine) || !errors.Is(err, ErrBadOption) || strings.Count(err.Error(), "sshkeys:") != 1 {
		t.Fatalf("err = %v", err)
	}
}
