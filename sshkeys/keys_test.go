package sshkeys

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/internal/interop"
	"github.com/keywright/keywright/keygen"
)

var interopSpecs = []keygen.Spec{
	{Type: keygen.Ed25519},
	{Type: keygen.ECDSA, Curve: keygen.P256},
	{Type: keygen.ECDSA, Curve: keygen.P384},
	{Type: keygen.ECDSA, Curve: keygen.P521},
	{Type: keygen.RSA, Bits: 2048},
}

func TestNormalizeSpec(t *testing.T) {
	s, err := NormalizeSpec(keygen.Spec{})
	if err != nil || s.Type != keygen.Ed25519 {
		t.Fatalf("default = %v, %v", s, err)
	}
	s, err = NormalizeSpec(keygen.Spec{Type: keygen.RSA})
	if err != nil || s.Bits != 3072 {
		t.Fatalf("rsa default = %v, %v", s, err)
	}
	if _, err := NormalizeSpec(keygen.Spec{Type: keygen.RSA, Bits: 1024}); err == nil {
		t.Fatal("rsa 1024 accepted")
	}
}

func TestPrivateRoundTrip(t *testing.T) {
	for _, spec := range interopSpecs[:4] {
		for _, pass := range [][]byte{nil, []byte("correct horse")} {
			t.Run(fmt.Sprintf("%s/encrypted=%v", spec, pass != nil), func(t *testing.T) {
				key, err := keygen.Generate(spec)
				if err != nil {
					t.Fatal(err)
				}
				data, err := MarshalPrivate(key, "c", pass)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(data, []byte("-----BEGIN OPENSSH PRIVATE KEY-----")) {
					t.Fatalf("not OpenSSH: %.40s", data)
				}
				got, err := ParsePrivate(data, func() ([]byte, error) { return pass, nil })
				if err != nil {
					t.Fatal(err)
				}
				if got.Encrypted != (pass != nil) || got.Format != "openssh" {
					t.Fatalf("encrypted=%v format=%s", got.Encrypted, got.Format)
				}
				a, _ := ssh.NewPublicKey(key.Public())
				b, _ := ssh.NewPublicKey(got.Key.Public())
				if !bytes.Equal(a.Marshal(), b.Marshal()) {
					t.Fatal("public keys differ after round trip")
				}
				if pass == nil {
					return
				}
				if _, err := ParsePrivate(data, nil); !errors.Is(err, keygen.ErrPassphraseRequired) {
					t.Fatalf("no passphrase: %v", err)
				}
				_, err = ParsePrivate(data, func() ([]byte, error) { return []byte("wrong"), nil })
				if !errors.Is(err, keygen.ErrWrongPassphrase) {
					t.Fatalf("wrong passphrase: %v", err)
				}
			})
		}
	}
}

func TestParsePublicForms(t *testing.T) {
	key, _ := keygen.Generate(keygen.Spec{Type: keygen.ECDSA})
	want, _ := ssh.NewPublicKey(key.Public())
	pkcs8, _ := keygen.MarshalPEM(key)
	pkix, _ := keygen.MarshalPublicPEM(key.Public())
	openssh, _ := MarshalPrivate(key, "", nil)
	line, _ := MarshalPublic(want, "me")
	// An encrypted OpenSSH key's public half is in clear: no passphrase is asked.
	encrypted, _ := MarshalPrivate(key, "", []byte("pw"))
	noAsk := func() ([]byte, error) {
		t.Error("asked for a passphrase")
		return nil, errors.New("asked")
	}
	for name, data := range map[string][]byte{"pkcs8": pkcs8, "pkix": pkix, "openssh": openssh, "line": line, "openssh-encrypted": encrypted} {
		got, err := ParsePublic(data, noAsk)
		if err != nil || !bytes.Equal(got.Key.Marshal(), want.Marshal()) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, data := range map[string]string{"garbage": "not a key", "weak": weakRSA, "empty": ""} {
		_, err := ParsePublic([]byte(data), nil)
		if err == nil && name != "weak" {
			t.Errorf("%s accepted", name)
		}
		if name == "weak" {
			// A weak key parses; NewEntry and SignCert refuse it.
			got, err := ParsePublic([]byte(data), nil)
			if err != nil || CheckKey(got.Key) == nil {
				t.Errorf("weak: %v", err)
			}
		}
	}
}

// TestSSHKeygenInterop: ssh-keygen re-derives every .pub we write (-y, with
// -P for encrypted keys), prints our fingerprints (-l) and reads our
// certificates (-L); and we read the keys ssh-keygen writes.
func TestSSHKeygenInterop(t *testing.T) {
	sshKeygen := interop.Tool(t, "ssh-keygen")
	dir := t.TempDir()
	caKey := mustGen(t, keygen.Spec{Type: keygen.ECDSA})
	for i, spec := range interopSpecs {
		for _, pass := range []string{"", "s3cret pass"} {
			name := fmt.Sprintf("%s/encrypted=%v", spec, pass != "")
			t.Run(name, func(t *testing.T) {
				key := mustGen(t, spec)
				base := filepath.Join(dir, fmt.Sprintf("k%d%v", i, pass != ""))
				priv, err := MarshalPrivate(key, "who@where", []byte(pass))
				check(t, err)
				pub, _ := NewPublicKey(key.Public())
				line, err := MarshalPublic(pub, "who@where")
				check(t, err)
				check(t, os.WriteFile(base, priv, 0o600))
				check(t, os.WriteFile(base+".pub", line, 0o644))

				out := run(t, sshKeygen, "-y", "-P", pass, "-f", base)
				if got, want := strings.Fields(out)[:2], strings.Fields(string(line))[:2]; strings.Join(got, " ") != strings.Join(want, " ") {
					t.Fatalf("ssh-keygen -y: %s\nwant %s", out, line)
				}
				spec, _ = spec.Normalize()
				out = run(t, sshKeygen, "-l", "-f", base+".pub")
				if !strings.HasPrefix(out, fmt.Sprintf("%d %s who@where (", spec.Size(), Fingerprint(pub))) {
					t.Fatalf("ssh-keygen -l: %s, want fingerprint %s", out, Fingerprint(pub))
				}

				cert, err := SignCert(caKey, CertRequest{Key: pub, Identity: "id-" + name, Principals: []string{"alice", "bob"},
					ValidFor: time.Hour, Now: time.Now(), ForceCommand: "uptime", SourceAddrs: []string{"127.0.0.1/32"}})
				check(t, err)
				certLine, _ := MarshalCert(cert, "")
				check(t, os.WriteFile(base+"-cert.pub", certLine, 0o644))
				out = run(t, sshKeygen, "-l", "-f", base+"-cert.pub")
				if !strings.Contains(out, " "+Fingerprint(cert)+" ") || Fingerprint(cert) != Fingerprint(pub) {
					t.Errorf("ssh-keygen -l of the certificate: %s, want %s", out, Fingerprint(cert))
				}
				out = run(t, sshKeygen, "-L", "-f", base+"-cert.pub")
				for _, want := range []string{"user certificate", `Key ID: "id-` + name + `"`, "alice", "bob",
					"force-command uptime", "source-address 127.0.0.1/32", "permit-pty", Fingerprint(pub)} {
					if !strings.Contains(out, want) {
						t.Errorf("ssh-keygen -L lacks %q:\n%s", want, out)
					}
				}
			})
		}
	}
	t.Run("read ssh-keygen keys", func(t *testing.T) {
		for _, typ := range []string{"ed25519", "ecdsa"} {
			base := filepath.Join(dir, "theirs-"+typ)
			run(t, sshKeygen, "-q", "-t", typ, "-N", "their pass", "-C", "theirs", "-f", base)
			data, _ := os.ReadFile(base)
			k, err := ParsePrivate(data, func() ([]byte, error) { return []byte("their pass"), nil })
			check(t, err)
			pubData, _ := os.ReadFile(base + ".pub")
			want, err := ParsePublic(pubData, nil)
			check(t, err)
			got, _ := NewPublicKey(k.Key.Public())
			if !bytes.Equal(got.Marshal(), want.Key.Marshal()) || want.Comment != "theirs" || !k.Encrypted {
				t.Errorf("%s: key or comment differs", typ)
			}
		}
	})
}

func mustGen(t *testing.T, s keygen.Spec) crypto.Signer {
	t.Helper()
	k, err := keygen.Generate(s)
	check(t, err)
	return k
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}
