package ca

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

func leafReq(t testing.TB, cn string, sans ...string) SignRequest {
	return SignRequest{
		Subject: pkix.Name{CommonName: cn}, SANs: mustSANs(t, sans...),
		PublicKey: genKey(t, keygen.Spec{}).Public(), Profile: profile(t, ProfileServer), Now: testNow,
	}
}

func TestSignLeafProfile(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	inter := testCA(t, st, "int", root, nil)
	for _, spec := range []keygen.Spec{{Type: "ecdsa"}, {Type: "rsa", Bits: 2048}, {Type: "ed25519"}} {
		key := genKey(t, spec)
		for _, pname := range []string{ProfileServer, ProfileClient, ProfileServerClient, ProfileCodeSigning, ProfileEmail} {
			t.Run(spec.Type+"/"+pname, func(t *testing.T) {
				r := leafReq(t, "www.example.test", "www.example.test", "10.1.2.3", "ops@example.test")
				r.PublicKey = key.Public()
				r.Profile = profile(t, pname)
				s, err := inter.Sign(r)
				if err != nil {
					t.Fatal(err)
				}
				c := s.Cert
				if c.IsCA || !c.BasicConstraintsValid {
					t.Error("leaf must be CA:FALSE with basic constraints")
				}
				wantKU := x509.KeyUsageDigitalSignature
				if spec.Type == "rsa" && r.Profile.encipher {
					wantKU |= x509.KeyUsageKeyEncipherment
				}
				if c.KeyUsage != wantKU {
					t.Errorf("key usage %b, want %b", c.KeyUsage, wantKU)
				}
				if len(c.ExtKeyUsage) != len(r.Profile.EKU) || c.ExtKeyUsage[0] != r.Profile.EKU[0] {
					t.Errorf("EKU %v, want %v", c.ExtKeyUsage, r.Profile.EKU)
				}
				if string(c.AuthorityKeyId) != string(inter.Cert.SubjectKeyId) {
					t.Error("AKI must be the issuer's SKI")
				}
				if got := c.NotBefore; !got.Equal(testNow.Add(-Backdate)) {
					t.Errorf("not before %v", got)
				}
				if d := (Window{c.NotBefore, c.NotAfter}).Days(); d != DefaultLeafDays {
					t.Errorf("validity %d days, want %d", d, DefaultLeafDays)
				}
				if len(s.Chain) != 2 || s.Chain[1] != inter.Cert {
					t.Errorf("chain: %d certificates, want leaf + intermediate", len(s.Chain))
				}
			})
		}
	}
}

func TestRootAndIntermediateProfile(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	inter := testCA(t, st, "int", root, func(r *RootRequest) {
		var err error
		r.Constraints, err = ParseConstraints(ConstraintValues{PermitDNS: []string{"example.test"}, PermitIP: []string{"10.0.0.0/8"}})
		if err != nil {
			t.Fatal(err)
		}
	})
	rc, ic := root.Cert, inter.Cert
	if !rc.IsCA || rc.MaxPathLen != -1 || rc.KeyUsage != caKeyUsage || len(rc.SubjectKeyId) == 0 || len(rc.ExtKeyUsage) != 0 {
		t.Errorf("root: CA %v pathlen %d KU %b SKI %x EKU %v", rc.IsCA, rc.MaxPathLen, rc.KeyUsage, rc.SubjectKeyId, rc.ExtKeyUsage)
	}
	if d := rc.NotAfter.Sub(rc.NotBefore); d < 3650*24*time.Hour {
		t.Errorf("root lives %v, want 10 years", d)
	}
	if !ic.IsCA || ic.MaxPathLen != 0 || !ic.MaxPathLenZero || string(ic.AuthorityKeyId) != string(rc.SubjectKeyId) {
		t.Errorf("intermediate: CA %v pathlen %d/%v AKI %x", ic.IsCA, ic.MaxPathLen, ic.MaxPathLenZero, ic.AuthorityKeyId)
	}
	if !ic.PermittedDNSDomainsCritical || ic.PermittedDNSDomains[0] != "example.test" || ic.PermittedIPRanges[0].String() != "10.0.0.0/8" {
		t.Errorf("name constraints: %v %v critical=%v", ic.PermittedDNSDomains, ic.PermittedIPRanges, ic.PermittedDNSDomainsCritical)
	}
	if evs := issuedOf(t, root); len(evs) != 2 || evs[0].Profile != ProfileRoot || evs[1].Profile != ProfileCA {
		t.Fatalf("root record: %+v", evs)
	}
	loaded, err := Load(context.Background(), st, "int")
	if err != nil || !loaded.Root.Equal(rc) || len(loaded.Chain) != 0 {
		t.Fatalf("Load(int): %v", err)
	}
}

// TestSignRefuses is the policy's negative table: each request is refused
// with the reason, before anything is signed.
func TestSignRefuses(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, func(r *RootRequest) { r.Days = 400; r.Now = testNow.Add(-60 * 24 * time.Hour) })
	nc := testCA(t, st, "nc", root, func(r *RootRequest) {
		r.Days = 300
		r.Constraints, _ = ParseConstraints(ConstraintValues{PermitDNS: []string{"example.test"}, ExcludeDNS: []string{"secret.example.test"}, PermitIP: []string{"10.0.0.0/8"}})
	})
	expired := testCA(t, st, "old", root, func(r *RootRequest) { r.Days = 10; r.Now = testNow.Add(-30 * 24 * time.Hour) })
	tests := []struct {
		name string
		ca   *Authority
		mod  func(*SignRequest)
		want string
		is   error
	}{
		{"outside permitted", nc, func(r *SignRequest) { r.SANs = mustSANs(t, "www.evil.test"); r.Subject.CommonName = "" }, "dns:www.evil.test: CA nc permits only DNS domain example.test", ErrNameNotPermitted},
		{"excluded", nc, func(r *SignRequest) { r.SANs = mustSANs(t, "a.secret.example.test"); r.Subject.CommonName = "" }, "dns:a.secret.example.test: CA nc excludes DNS domain secret.example.test", ErrNameNotPermitted},
		{"wildcard over an excluded host", nc, func(r *SignRequest) { r.SANs = mustSANs(t, "*.example.test"); r.Subject.CommonName = "" }, "dns:*.example.test: CA nc excludes DNS domain secret.example.test", ErrNameNotPermitted},
		{"ip outside", nc, func(r *SignRequest) { r.SANs = mustSANs(t, "www.example.test", "192.168.1.1") }, "ip:192.168.1.1: CA nc permits only IP range 10.0.0.0/8", ErrNameNotPermitted},
		{"ipv6 outside a v4 range", nc, func(r *SignRequest) { r.SANs = mustSANs(t, "www.example.test", "::ffff:a00:1", "fd00::1") }, "ip:fd00::1: CA nc permits only IP range 10.0.0.0/8", ErrNameNotPermitted},
		{"uri outside the DNS domain", nc, func(r *SignRequest) { r.SANs = mustSANs(t, "www.example.test", "uri:https://evil.com/") }, "uri:https://evil.com/: CA nc permits only URI domains example.test, .example.test", ErrNameNotPermitted},
		{"uri in an excluded domain", nc, func(r *SignRequest) { r.SANs = mustSANs(t, "www.example.test", "uri:https://a.secret.example.test/") }, "CA nc excludes URI domain .secret.example.test", ErrNameNotPermitted},
		{"uri with an IP host", nc, func(r *SignRequest) { r.SANs = mustSANs(t, "www.example.test", "uri:https://10.0.0.1/") }, "uri:https://10.0.0.1/: CA nc has URI constraints, which a URI with an IP address cannot meet", ErrNameNotPermitted},
		{"email outside the DNS domain", nc, func(r *SignRequest) { r.SANs = mustSANs(t, "www.example.test", "a@evil.com") }, "email:a@evil.com: CA nc permits only email domains example.test, .example.test", ErrNameNotPermitted},
		{"every name refused", nc, func(r *SignRequest) { r.SANs = mustSANs(t, "www.example.test", "a@evil.com", "uri:https://evil.com/") }, "email:a@evil.com: CA nc permits only email domains example.test, .example.test; uri:https://evil.com/: CA nc permits", ErrNameNotPermitted},
		{"outlives issuer", root, func(r *SignRequest) { r.Days = 500 }, "after CA \"root\" ends on", ErrOutlivesIssuer},
		{"outlives root via intermediate", nc, func(r *SignRequest) { r.Days = 500; r.SANs = mustSANs(t, "www.example.test") }, "ends on", ErrOutlivesIssuer},
		{"expired CA", expired, nil, "expired on", ErrCAExpired},
		{"CA not yet valid", root, func(r *SignRequest) { r.Now = testNow.Add(-61 * 24 * time.Hour) }, "is valid from", ErrCANotYetValid},
		{"over 825 days", root, func(r *SignRequest) { r.Days = 826 }, "at most 825 days", ErrValidity},
		{"zero days", root, func(r *SignRequest) { r.Days = -1 }, "at least 1 day", ErrValidity},
		{"no SAN", root, func(r *SignRequest) { r.SANs = mustSANs(t); r.Subject.CommonName = "" }, "needs at least one subject alternative name", nil},
		{"CN not a SAN", root, func(r *SignRequest) { r.Subject.CommonName = "My Web Server" }, `CN "My Web Server" must be one of the SANs`, nil},
		{"server without DNS", root, func(r *SignRequest) { r.SANs = mustSANs(t, "ops@example.test"); r.Subject.CommonName = "" }, "needs at least one DNS name or IP address", nil},
		{"email without email SAN", root, func(r *SignRequest) { r.Profile = profile(t, ProfileEmail) }, "needs at least one email SAN", nil},
		{"path length 0 signs CA", nc, func(r *SignRequest) { r.Profile = profile(t, ProfileCA); r.PathLen = 0 }, "has path length 0", ErrPathLen},
		{"no key", &Authority{Paths: root.Paths, Cert: root.Cert, Root: root.Root}, nil, "not loaded", ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := leafReq(t, "www.example.test", "www.example.test")
			if tt.mod != nil {
				tt.mod(&r)
			}
			_, err := tt.ca.Sign(r)
			if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("error %v\nwant it to contain %q (is %v)", err, tt.want, tt.is)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// An issuer whose certificate lacks keyCertSign, or is not a CA, does not sign.
func TestSignIssuerWithoutCertSign(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	for _, tt := range []struct {
		name string
		mod  func(*x509.Certificate)
		want string
	}{
		{"no keyCertSign", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }, "lacks the keyCertSign key usage"},
		{"not a CA", func(c *x509.Certificate) { c.IsCA = false }, "is not a CA certificate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := *root.Cert
			tt.mod(&c)
			a := *root
			a.Cert = &c
			_, err := a.Sign(leafReq(t, "", "a.example.test"))
			if !errors.Is(err, ErrIssuerCannotSign) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSignWarnsOver200Days(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	r := leafReq(t, "", "a.example.test")
	r.Days = 201
	s, err := root.Sign(r)
	if err != nil || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "201-day") {
		t.Fatalf("201 days: %v, warnings %v", err, s.Warnings)
	}
	r.Days = 825
	if _, err := root.Sign(r); err != nil {
		t.Fatalf("825 days: %v", err)
	}
}

func TestIssueWritesRecordsAndFiles(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	certPath, _ := st.Path("web", store.Cert)
	chainPath, _ := st.Path("web", store.Chain)
	req := IssueRequest{Store: st, Sign: leafReq(t, "", "web.example.test"), CertPath: certPath, ChainPath: chainPath, LockTimeout: time.Second}
	is, err := root.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if is.Entry == nil || is.Entry.File != "web.crt" || is.Entry.Profile != "server" || is.Entry.SANs[0] != "dns:web.example.test" {
		t.Fatalf("entry %+v", is.Entry)
	}
	// A second issue to the same name fails before signing; the record is unchanged.
	before := eventsOf(t, root)
	if _, err := root.Issue(context.Background(), req); !errors.Is(err, store.ErrExists) {
		t.Fatalf("re-issue: %v, want ErrExists", err)
	}
	if after := eventsOf(t, root); len(after) != len(before) {
		t.Fatal("a refused issue changed the record")
	}
	// With Force it replaces, with a new serial and a second record line.
	req.Force = true
	is2, err := root.Issue(context.Background(), req)
	if err != nil || is2.Cert.SerialNumber.Cmp(is.Cert.SerialNumber) == 0 {
		t.Fatalf("forced re-issue: %v", err)
	}
	if n := len(issuedOf(t, root)); n != 3 {
		t.Fatalf("%d record entries, want root + 2", n)
	}
}

func TestIssueBusy(t *testing.T) {
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	lock, err := root.LockCA(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	certPath, _ := st.Path("web", store.Cert)
	_, err = root.Issue(context.Background(), IssueRequest{Store: st, Sign: leafReq(t, "", "a.test"), CertPath: certPath, LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("issue under a held lock: %v, want ErrBusy", err)
	}
}

// A CA lives 1 to MaxCADays days: a count that would overflow days*24h
// (106752 days once made a root that expired in 1734) is refused before
// anything is written, and the longest allowed ends after it starts.
func TestCALifetimeBounds(t *testing.T) {
	st := newStore(t)
	for _, days := range []int{MaxCADays + 1, 106752, -1} {
		p, err := PathsFor(st, "big")
		if err != nil {
			t.Fatal(err)
		}
		key := genKey(t, keygen.Spec{})
		keyPEM, _ := keygen.MarshalPEM(key)
		_, err = Create(context.Background(), CreateRequest{Store: st, Paths: p, KeyPEM: keyPEM, LockTimeout: time.Second,
			Root: RootRequest{Subject: pkix.Name{CommonName: "big"}, Key: key, PathLen: -1, Days: days, Now: testNow}})
		if !errors.Is(err, ErrValidity) {
			t.Fatalf("%d days: %v, want ErrValidity", days, err)
		}
		if _, err := os.Stat(p.Cert); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%d days: %s written (%v)", days, p.Cert, err)
		}
	}
	root := testCA(t, st, "root", nil, func(r *RootRequest) { r.Days = MaxCADays })
	if w := (Window{root.Cert.NotBefore, root.Cert.NotAfter}); w.Days() != MaxCADays || !root.Cert.NotAfter.After(root.Cert.NotBefore) {
		t.Fatalf("%d days: %s to %s", MaxCADays, root.Cert.NotBefore, root.Cert.NotAfter)
	}
	r := leafReq(t, "sub", "sub.example.test")
	r.Profile, r.Days = profile(t, ProfileCA), MaxCADays+1
	if _, err := root.Sign(r); !errors.Is(err, ErrValidity) {
		t.Fatalf("ca profile, %d days: %v, want ErrValidity", r.Days, err)
	}
}
