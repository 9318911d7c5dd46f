package sshkeys

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestSignCert(t *testing.T) {
	_, caKey, _ := ed25519.GenerateKey(rand.Reader)
	caPub, _ := ssh.NewPublicKey(caKey.Public())
	user := testECKey(t)
	now := time.Unix(2_000_000_000, 0)
	tests := []struct {
		name      string
		req       CertRequest
		crit, ext []string
	}{
		{"user defaults", CertRequest{Identity: "alice@corp", Principals: []string{"alice"}},
			nil, DefaultUserExtensions},
		{"user options", CertRequest{Identity: "ci", Principals: []string{"deploy", "ci"}, ForceCommand: "/bin/deploy",
			SourceAddrs: []string{"10.0.0.0/8", "192.0.2.1"}, NoExtensions: true},
			[]string{"force-command", "source-address"}, nil},
		{"host", CertRequest{Host: true, Identity: "web", Principals: []string{"web.example.com", "10.1.2.3"}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Key, tt.req.Now, tt.req.ValidFor = user, now, 24*time.Hour
			cert, err := SignCert(caKey, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			// Re-parse the wire form and check it as sshd would.
			line, _ := MarshalCert(cert, "c")
			parsed, _, _, _, err := ssh.ParseAuthorizedKey(line)
			if err != nil {
				t.Fatal(err)
			}
			c := parsed.(*ssh.Certificate)
			if c.ValidAfter != uint64(now.Add(-Backdate).Unix()) || c.ValidBefore != uint64(now.Add(24*time.Hour).Unix()) {
				t.Errorf("validity %d..%d", c.ValidAfter, c.ValidBefore)
			}
			if c.KeyId != tt.req.Identity || strings.Join(c.ValidPrincipals, ",") != strings.Join(tt.req.Principals, ",") {
				t.Errorf("id %q principals %v", c.KeyId, c.ValidPrincipals)
			}
			if len(c.CriticalOptions) != len(tt.crit) || len(c.Extensions) != len(tt.ext) {
				t.Errorf("critical %v extensions %v", c.CriticalOptions, c.Extensions)
			}
			checker := ssh.CertChecker{
				IsUserAuthority:          func(k ssh.PublicKey) bool { return string(k.Marshal()) == string(caPub.Marshal()) },
				IsHostAuthority:          func(k ssh.PublicKey, _ string) bool { return string(k.Marshal()) == string(caPub.Marshal()) },
				Clock:                    func() time.Time { return now },
				SupportedCriticalOptions: []string{"force-command", "source-address"},
			}
			err = checker.CheckCert(tt.req.Principals[0], c)
			if err != nil {
				t.Errorf("CheckCert: %v", err)
			}
			if err := checker.CheckCert("mallory", c); err == nil {
				t.Error("certificate accepted for a principal it does not carry")
			}
			wantType := uint32(ssh.UserCert)
			if tt.req.Host {
				wantType = ssh.HostCert
			}
			if c.CertType != wantType || c.Serial == 0 {
				t.Errorf("type %d serial %d", c.CertType, c.Serial)
			}
		})
	}
}

func TestSignCertRefuses(t *testing.T) {
	_, caKey, _ := ed25519.GenerateKey(rand.Reader)
	k := testKey(t)
	weak, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(weakRSA))
	base := CertRequest{Key: k, Identity: "id", Principals: []string{"p"}, ValidFor: time.Hour, Now: time.Now()}
	tests := []struct {
		name string
		mod  func(*CertRequest)
		want string
	}{
		{"no principals", func(r *CertRequest) { r.Principals = nil }, "at least one principal"},
		{"no identity", func(r *CertRequest) { r.Identity = " " }, "identity (key id) is required"},
		{"newline identity", func(r *CertRequest) { r.Identity = "a\nb" }, "newline"},
		{"bad principal", func(r *CertRequest) { r.Principals = []string{"a,b"} }, `principal "a,b"`},
		{"zero validity", func(r *CertRequest) { r.ValidFor = 0 }, "validity must be positive"},
		{"weak key", func(r *CertRequest) { r.Key = weak }, "rsa key of 1024 bits"},
		{"host force-command", func(r *CertRequest) { r.Host, r.ForceCommand = true, "ls" }, "user certificates only"},
		{"bad source", func(r *CertRequest) { r.SourceAddrs = []string{"10.0.0.1/8"} }, "host bits set"},
		{"bad source 2", func(r *CertRequest) { r.SourceAddrs = []string{"example.com"} }, "not an IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base
			tt.mod(&req)
			_, err := SignCert(caKey, req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	cert, err := SignCert(caKey, base)
	if err != nil {
		t.Fatal(err)
	}
	req := base
	req.Key = cert
	if _, err := SignCert(caKey, req); err == nil || !strings.Contains(err.Error(), "certificate already") {
		t.Fatalf("certifying a certificate: %v", err)
	}
}

// A principal given twice is listed once, in the order first given.
func TestSignCertPrincipalsOnce(t *testing.T) {
	_, caKey, _ := ed25519.GenerateKey(rand.Reader)
	req := CertRequest{Key: testECKey(t), Identity: "ci", Principals: []string{"alice", "bob", "alice"},
		Now: time.Unix(2_000_000_000, 0), ValidFor: time.Hour}
	cert, err := SignCert(caKey, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cert.ValidPrincipals, ","); got != "alice,bob" {
		t.Fatalf("principals %q, want alice,bob", got)
	}
}

// A CA key whose private half does not match its public half (a damaged
// key file) signs nothing: the certificate would not verify.
func TestSignCertDamagedKey(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	damaged := make(ed25519.PrivateKey, len(priv))
	copy(damaged, priv)
	damaged[5] ^= 0x55 // the seed changes; the public half stays
	req := CertRequest{Key: testECKey(t), Identity: "i", Principals: []string{"p"}, Now: time.Now(), ValidFor: time.Hour}
	if _, err := SignCert(damaged, req); !errors.Is(err, ErrDamagedCAKey) {
		t.Fatalf("damaged key: %v", err)
	}
	if _, err := SignCert(priv, req); err != nil {
		t.Fatalf("good key: %v", err)
	}
}
