package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// chainStore is a root, an intermediate and a leaf the intermediate issued.
func chainStore(t *testing.T) (st *store.Store, root, inter *Authority, leaf *x509.Certificate) {
	st = newStore(t)
	root = testCA(t, st, "root", nil, nil)
	inter = testCA(t, st, "int", root, nil)
	return st, root, inter, issueLeaf(t, st, inter, "web").Cert
}

func revoke(t *testing.T, by *Authority, c *x509.Certificate, reason string) {
	t.Helper()
	if _, err := by.Revoke(context.Background(), RevokeRequest{Serial: c.SerialNumber, Reason: reason, Now: testNow, LockTimeout: time.Second}); err != nil {
		t.Fatal(err)
	}
}

// failedChecks is "name: sentinel" of each failed check, in order.
func failedChecks(v *Verification) []string {
	var out []string
	for _, c := range v.Checks {
		if c.Err != nil {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return out
}

// TestVerify: every check of every certificate of the chain, each failure
// its own check with its sentinel; what stops a check is Verify's error.
func TestVerify(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		setup   func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions)
		failed  []string // details of the failed checks, in order (substrings)
		is      []error  // what Verification.Err wraps
		wantErr error    // what Verify's error wraps (nil: none)
	}{
		{"good", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st, _, _, leaf := chainStore(t)
			return st, leaf, VerifyOptions{}
		}, nil, nil, nil},
		{"revoked leaf", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st, _, inter, leaf := chainStore(t)
			revoke(t, inter, leaf, "key-compromise")
			return st, leaf, VerifyOptions{}
		}, []string{"revocation: revoked by CA int on 2026-06-01T12:00:00Z (key-compromise)"}, []error{ErrRevoked}, nil},
		{"revoked intermediate", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st, root, inter, leaf := chainStore(t)
			revoke(t, root, inter.Cert, "ca-compromise")
			return st, leaf, VerifyOptions{}
		}, []string{"revocation: the CA is revoked: CA int was revoked by CA root on 2026-06-01 (ca-compromise)"}, []error{ErrCARevoked}, nil},
		{"revoked leaf and intermediate, both reported", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st, root, inter, leaf := chainStore(t)
			revoke(t, inter, leaf, "superseded")
			revoke(t, root, inter.Cert, "ca-compromise")
			return st, leaf, VerifyOptions{}
		}, []string{"revocation: revoked by CA int", "revocation: the CA is revoked: CA int"}, []error{ErrRevoked, ErrCARevoked}, nil},
		{"revoked root", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st, root, _, leaf := chainStore(t)
			revoke(t, root, root.Cert, "ca-compromise")
			return st, leaf, VerifyOptions{}
		}, []string{"revocation: the CA is revoked: CA root was revoked by CA root"}, []error{ErrCARevoked}, nil},
		{"unknown issuer", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st, _, _, _ := chainStore(t)
			other := newStore(t)
			stranger := testCA(t, other, "stranger", nil, nil)
			return st, issueLeaf(t, other, stranger, "x").Cert, VerifyOptions{}
		}, []string{"chain: signed by an unknown authority"}, []error{ErrUntrusted}, nil},
		{"not through the CA asked for", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st, root, _, _ := chainStore(t)
			other := testCA(t, st, "other", root, nil)
			leaf := issueLeaf(t, st, other, "o").Cert
			through, err := Load(context.Background(), st, "int")
			if err != nil {
				t.Fatal(err)
			}
			return st, leaf, VerifyOptions{Through: through}
		}, []string{"chain: signed by an unknown authority"}, []error{ErrUntrusted}, nil},
		{"expired leaf: validity only", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st, _, _, leaf := chainStore(t)
			return st, leaf, VerifyOptions{At: leaf.NotAfter.Add(time.Hour)}
		}, []string{"validity: expired on"}, []error{ErrCertExpired}, nil},
		{"expired intermediate", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st := newStore(t)
			root := testCA(t, st, "root", nil, nil)
			inter := testCA(t, st, "int", root, func(r *RootRequest) { r.Days = 10 })
			return st, outliving(t, inter), VerifyOptions{At: testNow.Add(20 * 24 * time.Hour)}
		}, []string{`chain: CA "int CA" expired on 2026-06-11`}, []error{ErrCAExpired}, nil},
		{"unreadable record", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st, _, _, leaf := chainStore(t)
			db := filepath.Join(st.Dir, DBFile)
			for _, f := range []string{db, db + "-wal", db + "-shm"} {
				os.Remove(f)
			}
			if err := os.WriteFile(db, []byte(strings.Repeat("not a database ", 300)), 0o644); err != nil {
				t.Fatal(err)
			}
			return st, leaf, VerifyOptions{}
		}, []string{"chain: CA record", "it is not an SQLite database"}, nil, ErrRecord},
		{"damaged record entry", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st, _, _, leaf := chainStore(t)
			damage(t, st, "UPDATE certificates SET revoked_at = 'yesterday' WHERE name = 'web'")
			return st, leaf, VerifyOptions{}
		}, []string{"revocation: CA record", "revoked_at: \"yesterday\" is not a time"}, nil, ErrDamaged},
		{"unreadable CA certificate: not taken for no root", func(t *testing.T) (*store.Store, *x509.Certificate, VerifyOptions) {
			st, root, _, leaf := chainStore(t)
			if err := os.WriteFile(root.Paths.Cert, []byte("garbage"), 0o644); err != nil {
				t.Fatal(err)
			}
			return st, leaf, VerifyOptions{}
		}, []string{"chain: /", "root.crt: no PEM data found"}, nil, keygen.ErrNoPEM},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, leaf, opt := tt.setup(t)
			if opt.At.IsZero() {
				opt.At = testNow
			}
			v, err := Verify(ctx, st, leaf, opt)
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			got := strings.Join(failedChecks(v), "\n")
			for _, want := range tt.failed {
				if !strings.Contains(got, want) {
					t.Errorf("failed checks:\n%s\nwant one with %q", got, want)
				}
			}
			if len(tt.failed) == 0 && got != "" {
				t.Errorf("failed checks:\n%s\nwant none", got)
			}
			for _, is := range tt.is {
				if !errors.Is(v.Err(), is) {
					t.Errorf("Err() = %v, want it to wrap %v", v.Err(), is)
				}
			}
			if len(tt.is) > 1 && len(failedChecks(v)) != len(tt.is) {
				t.Errorf("%d failed checks, want %d (one per problem)", len(failedChecks(v)), len(tt.is))
			}
		})
	}
}

// outliving is a leaf signed by a that ends a year after it (not one
// keywright would issue: it stands for a CA that expired under its leaves).
func outliving(t *testing.T, a *Authority) *x509.Certificate {
	t.Helper()
	return handSigned(t, a, "late.example.test", testNow.AddDate(1, 0, 0))
}

// handSigned is a server certificate for name signed by a with crypto/x509
// alone, none of keywright's checks: what a broken or hostile tool makes.
func handSigned(t *testing.T, a *Authority, name string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key := genKey(t, keygen.Spec{})
	tmpl := &x509.Certificate{SerialNumber: a.Cert.SerialNumber, Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: testNow.Add(-time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, key.Public(), a.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// damage runs SQL on the store's record, as a broken tool or disk might.
func damage(t *testing.T, st *store.Store, stmt string) {
	t.Helper()
	db, err := OpenDB(context.Background(), st.Dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.sql.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}

// A revoked CA, or one below it, is loaded but signs nothing; its parent
// still signs.
func TestRevokedCASignsNothing(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	root := testCA(t, st, "root", nil, nil)
	inter := testCA(t, st, "int", root, func(r *RootRequest) { r.PathLen = 1 })
	testCA(t, st, "sub", inter, nil)
	revoke(t, root, inter.Cert, "ca-compromise")
	for _, name := range []string{"int", "sub"} {
		a, err := Load(ctx, st, name)
		if err != nil {
			t.Fatal(err)
		}
		var rev *RevokedCAError
		if err := a.CanSign(testNow); !errors.As(err, &rev) || rev.Revoked != "int" || rev.By != "root" || rev.Reason != "ca-compromise" {
			t.Fatalf("%s: CanSign: %v", name, err)
		}
		a.Key = inter.Key
		if _, err := a.Sign(leafReq(t, "", "x.example.test")); !errors.Is(err, ErrCARevoked) {
			t.Fatalf("%s: Sign: %v, want ErrCARevoked", name, err)
		}
	}
	a, err := Load(ctx, st, "root")
	if err != nil {
		t.Fatal(err)
	}
	a.Key = root.Key
	if _, err := a.Sign(leafReq(t, "", "x.example.test")); err != nil {
		t.Fatalf("root: %v", err)
	}
}

// A damaged entry of a CA of the chain: whether it is revoked is not known,
// so it is loaded (to be looked at, to revoke) but signs nothing.
func TestLoadDamagedRecord(t *testing.T) {
	st, _, inter, _ := chainStore(t)
	damage(t, st, "UPDATE certificates SET not_after = 'soon' WHERE name = 'int'")
	a, err := Load(context.Background(), st, "int")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CanSign(testNow); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "not_after") {
		t.Fatalf("CanSign: %v, want ErrDamaged", err)
	}
	a.Key = inter.Key
	if _, err := a.Sign(leafReq(t, "", "x.example.test")); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Sign: %v, want ErrDamaged", err)
	}
}

// A request with the key of a CA of the store is refused, whichever CA
// signs.
func TestSignRefusesCAKeys(t *testing.T) {
	ctx := context.Background()
	st, root, inter, _ := chainStore(t)
	other := testCA(t, st, "other", nil, nil)
	a, err := Load(ctx, st, "int")
	if err != nil {
		t.Fatal(err)
	}
	a.Key = inter.Key
	for _, tt := range []struct {
		name string
		key  *Authority
		want string
	}{
		{"its own", inter, `the key of CA "int CA"`},
		{"its root's", root, `the key of CA "root CA"`},
		{"another CA of the store", other, "the key of CA other of the store"},
	} {
		r := leafReq(t, "", "x.example.test")
		r.PublicKey = tt.key.Key.Public()
		if _, err := a.Sign(r); !errors.Is(err, ErrCAKey) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrCAKey with %q", tt.name, err, tt.want)
		}
	}
}
