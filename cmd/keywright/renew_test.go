package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/keygen"
)

// runAt runs keywright in this process with its clock at now.
func runAt(t *testing.T, now time.Time, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &Env{Ctx: context.Background(), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return now }}
	code := run(args, e)
	return code, out.String(), errOut.String()
}

// mustRun runs keywright and fails the test unless it exits 0.
func mustRun(t *testing.T, now time.Time, args ...string) string {
	t.Helper()
	code, out, errOut := runAt(t, now, nil, args...)
	if code != 0 {
		t.Fatalf("keywright %v: exit %d\n%s", args, code, errOut)
	}
	return out
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	certs, err := ca.ReadCerts(path)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

func readPublicKeyOfKeyFile(t *testing.T, path string) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := keygen.ParsePEM(data, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d.Key.Public()
}

func readCSRKey(t *testing.T, path string) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	r, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return r.PublicKey
}

func samePublic(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// A renewed certificate keeps the subject (byte for byte), SANs, profile,
// issuer and lifetime of the one it renews, and has a new serial and a new
// key of the same type and size; the request and the chain go with it, and
// the record says what it renews.
func TestRenewKeepsWhatTheCertificateSays(t *testing.T) {
	for _, keyFlags := range [][]string{{"--type", "ecdsa", "--curve", "p384"}, {"--type", "rsa", "--bits", "2048"}, {"--type", "ed25519"}} {
		t.Run(keyFlags[1], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			now := time.Now()
			st := func(args ...string) []string { return append([]string{"--store", dir, "-q"}, args...) }
			mustRun(t, now, st("ca", "init", "root", "--no-passphrase")...)
			mustRun(t, now, st("ca", "init", "int", "--parent", "root", "--no-passphrase")...)
			mustRun(t, now, st(append([]string{"csr", "new", "app", "--subject", `/C=DE/ST=Berlin/O=R\/D GmbH/OU=ops/CN=app.example.test`,
				"--san", "app.example.test", "--san", "ops@example.test", "--san", "10.1.2.3"}, keyFlags...)...)...)
			mustRun(t, now, st("ca", "sign", "app", "--ca", "int", "--profile", "client", "--days", "17")...)
			old := readCert(t, filepath.Join(dir, "app.crt"))
			oldKey := readPublicKeyOfKeyFile(t, filepath.Join(dir, "app.key"))

			later := now.Add(72 * time.Hour)
			mustRun(t, later, st("renew", "app")...)
			renewed := readCert(t, filepath.Join(dir, "app.crt"))
			switch {
			case !bytes.Equal(renewed.RawSubject, old.RawSubject):
				t.Errorf("subject %q, want %q", renewed.Subject, old.Subject)
			case !bytes.Equal(renewed.RawIssuer, old.RawIssuer):
				t.Errorf("issuer %q, want %q", renewed.Issuer, old.Issuer)
			case renewed.SerialNumber.Cmp(old.SerialNumber) == 0:
				t.Error("the serial did not change")
			case renewed.NotAfter.Sub(renewed.NotBefore) != old.NotAfter.Sub(old.NotBefore):
				t.Errorf("lifetime %v, want %v", renewed.NotAfter.Sub(renewed.NotBefore), old.NotAfter.Sub(old.NotBefore))
			case !renewed.NotBefore.After(old.NotBefore):
				t.Error("the renewed certificate does not start later")
			case renewed.KeyUsage != old.KeyUsage || len(renewed.ExtKeyUsage) != 1 || renewed.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth:
				t.Errorf("key usage %v/%v, want %v/%v", renewed.KeyUsage, renewed.ExtKeyUsage, old.KeyUsage, old.ExtKeyUsage)
			case strings.Join(renewed.DNSNames, ",") != "app.example.test" || len(renewed.IPAddresses) != 1 || renewed.EmailAddresses[0] != "ops@example.test":
				t.Errorf("SANs %v %v %v", renewed.DNSNames, renewed.IPAddresses, renewed.EmailAddresses)
			}
			newKey := readPublicKeyOfKeyFile(t, filepath.Join(dir, "app.key"))
			oldSpec, _ := keygen.SpecOf(oldKey)
			newSpec, _ := keygen.SpecOf(newKey)
			if samePublic(newKey, oldKey) || newSpec != oldSpec {
				t.Errorf("key %v (same as before: %v), want a new %v", newSpec, samePublic(newKey, oldKey), oldSpec)
			}
			if !samePublic(renewed.PublicKey, newKey) || !samePublic(readCSRKey(t, filepath.Join(dir, "app.csr")), newKey) {
				t.Error("app.crt, app.csr and app.key do not share one key")
			}
			chain, err := ca.ReadCerts(filepath.Join(dir, "app.pem"))
			if err != nil || len(chain) != 2 || !chain[0].Equal(renewed) {
				t.Errorf("app.pem does not start with app.crt then int: %v", err)
			}
			log := mustRun(t, later, st("--json", "ca", "log", "int")...)
			if want := `"renews":"` + ca.FormatSerial(old.SerialNumber) + `"}`; !strings.Contains(log, `"serial":"`+ca.FormatSerial(renewed.SerialNumber)+`"`) || !strings.Contains(log, want) {
				t.Errorf("ca log int --json lacks the renewal of %s:\n%s", want, log)
			}
			db, err := ca.OpenDB(context.Background(), dir, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			e, err := db.Lookup(context.Background(), "int", ca.FormatSerial(renewed.SerialNumber))
			if err != nil || e == nil || e.Renews != ca.FormatSerial(old.SerialNumber) || e.Profile != "client" {
				t.Errorf("record entry %+v (%v), want one renewing %s", e, err, ca.FormatSerial(old.SerialNumber))
			}
		})
	}
}

// An inherited lifetime that would outlive the CA is shortened to end with
// it, with a warning (as a default lifetime is).
func TestRenewShortensToTheCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	now := time.Now()
	mustRun(t, now, "--store", dir, "-q", "ca", "init", "root", "--no-passphrase")
	mustRun(t, now, "--store", dir, "-q", "ca", "init", "short", "--parent", "root", "--no-passphrase", "--days", "5")
	mustRun(t, now, "--store", dir, "-q", "issue", "brief", "--ca", "short", "--san", "brief.example.test", "--days", "5")
	code, _, errOut := runAt(t, now.Add(48*time.Hour), nil, "--store", dir, "renew", "brief")
	if code != 0 || !strings.Contains(errOut, `with CA "short"'s chain, after 3 days instead of 5`) {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	caCert, c := readCert(t, filepath.Join(dir, "short.crt")), readCert(t, filepath.Join(dir, "brief.crt"))
	if c.NotAfter.After(caCert.NotAfter) || caCert.NotAfter.Sub(c.NotAfter) > 24*time.Hour {
		t.Fatalf("renewed certificate ends %v, the CA %v", c.NotAfter, caCert.NotAfter)
	}
}

// storeEnv is an Env on store dir for calling a command's parts directly.
func storeEnv(dir string) *Env {
	var out bytes.Buffer
	return &Env{Ctx: context.Background(), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out,
		Getenv: func(string) string { return "" }, Now: time.Now, UI: &UI{Err: &out}, Globals: &Globals{Store: dir}}
}

// renewGroup (batch's entry point) takes plans of several CAs: one group
// commit per CA, the outcomes in the order of the plans.
func TestRenewGroupOfSeveralCAs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	now := time.Now()
	mustRun(t, now, "--store", dir, "-q", "ca", "init", "root", "--no-passphrase")
	mustRun(t, now, "--store", dir, "-q", "ca", "init", "int", "--parent", "root", "--no-passphrase")
	names := []string{"a", "b", "c", "d"}
	for i, n := range names {
		mustRun(t, now, "--store", dir, "-q", "issue", n, "--ca", []string{"root", "int"}[i%2], "--san", n+".example.test")
	}
	e := storeEnv(dir)
	var plans []*ca.Renewal
	for _, n := range names {
		p, err := ca.FindRenewal(e.Ctx, e.Store(), n)
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, p)
	}
	r := newRenewer(e, renewOptions{CAKeys: CAKeyFlags{LockTimeout: time.Second}})
	for i, out := range r.renewGroup(plans) {
		if out.Err != nil || out.Name != names[i] || out.Issued == nil || out.Issued.Entry.CA != plans[i].Entry.CA ||
			out.Issued.Entry.Renews != plans[i].Entry.Serial {
			t.Errorf("outcome %d: %+v, want %s renewed by %s", i, out, names[i], plans[i].Entry.CA)
		}
	}
}

// renew --reuse-key of a certificate another keywright renewed (with a new
// key) after it was planned says so, instead of calling the store damaged
// ("the key does not match the certificate").
func TestReuseKeyAfterARenewalMeanwhile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	now := time.Now()
	mustRun(t, now, "--store", dir, "-q", "ca", "init", "root", "--no-passphrase")
	mustRun(t, now, "--store", dir, "-q", "issue", "web", "--ca", "root", "--san", "web.example.test")
	e := storeEnv(dir)
	p, err := ca.FindRenewal(e.Ctx, e.Store(), "web")
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, now, "--store", dir, "-q", "renew", "web") // a new key, meanwhile
	r := newRenewer(e, renewOptions{ReuseKey: true, CAKeys: CAKeyFlags{LockTimeout: time.Second}})
	out := r.renewGroup([]*ca.Renewal{p})[0]
	if !errors.Is(out.Err, ca.ErrRenewedMeanwhile) {
		t.Fatalf("renew --reuse-key after a renewal meanwhile: %v, want ErrRenewedMeanwhile", out.Err)
	}
}
