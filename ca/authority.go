package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// Errors of loading a CA.
var (
	ErrNotCA       = newError("not a CA certificate")
	ErrNoRoot      = newError("the root of the chain is not in the store")
	ErrKeyMismatch = newError("the key does not match the certificate")
	// ErrStoreUnreadable: the store directory cannot be listed, so what it
	// holds is not known (never taken for "not there").
	ErrStoreUnreadable = newError("the store cannot be read")
)

// Paths are the files of one CA.
type Paths struct {
	Name   string // NAME, for messages
	Cert   string // NAME.crt
	Key    string // NAME.key
	Chain  string // NAME.pem (intermediates only)
	Record string // the record database of NAME.crt's directory (DBFile)
	Lock   string // .NAME.lock
}

// PathsFor returns the files of CA ref: a NAME in st, or a path to its
// certificate (the other files are its siblings).
func PathsFor(st *store.Store, ref string) (Paths, error) {
	p := Paths{Name: store.BaseName(ref)}
	var err error
	if p.Cert, err = st.Resolve(ref, store.Cert); err != nil {
		return p, err
	}
	for _, f := range []struct {
		dst  *string
		kind store.Kind
	}{{&p.Key, store.Key}, {&p.Chain, store.Chain}} {
		if *f.dst, err = st.Sibling(ref, f.kind); err != nil {
			return p, err
		}
	}
	p.Record = filepath.Join(filepath.Dir(p.Cert), DBFile)
	p.Lock = filepath.Join(filepath.Dir(p.Cert), "."+p.Name+".lock")
	return p, nil
}

// LockCA takes the CA's exclusive lock, waiting at most timeout (then
// store.ErrBusy). Every change to the CA's record happens under it.
func (p Paths) LockCA(ctx context.Context, timeout time.Duration) (*store.Lock, error) {
	return store.LockPath(ctx, p.Lock, timeout)
}

// lockDB takes the CA's lock and opens the record database of its
// directory; done closes it and unlocks. Every change to a CA's record
// happens under its lock, so the CA's events (and its CRL files) come in
// one order.
func (a *Authority) lockDB(ctx context.Context, timeout time.Duration) (db *DB, done func(), err error) {
	lock, err := a.LockCA(ctx, timeout)
	if err != nil {
		return nil, nil, err
	}
	if db, err = OpenDB(ctx, filepath.Dir(a.Paths.Record), timeout); err != nil {
		lock.Unlock()
		return nil, nil, err
	}
	return db, func() { db.Close(); lock.Unlock() }, nil
}

// openRecord is lockDB and the CA's record (registered on first use).
func (a *Authority) openRecord(ctx context.Context, timeout time.Duration) (rec *Record, done func(), err error) {
	db, done, err := a.lockDB(ctx, timeout)
	if err != nil {
		return nil, nil, err
	}
	if rec, err = db.Record(ctx, a.Paths.Name, a.Cert, a.Paths.Cert); err != nil {
		done()
		return nil, nil, err
	}
	return rec, done, nil
}

// Authority is a CA ready to sign: its certificate, the intermediates above
// it (not the root), the root it chains to, and its key.
type Authority struct {
	Paths
	Cert  *x509.Certificate
	Chain []*x509.Certificate // issuing intermediates above Cert, nearest first; no root
	Root  *x509.Certificate   // the self-signed root (Cert itself for a root)
	Key   crypto.Signer       // nil until SetKey

	standing // from the record: revoked or not, the store's CA keys (Load)
}

// Load reads CA ref's certificate and chain from st, finds its root among
// the certificates in the store (and in the CA's own directory), and reads
// its standing from the record: a CA that is revoked, or below a revoked
// CA, is loaded but signs nothing (Sign refuses with a *RevokedCAError; so
// it does when the record entry of a CA of the chain cannot be read), and
// the keys of every CA of the store are kept, so Sign refuses to certify
// one. Every CA that signs is loaded here (README "Certificate authority",
// Policy). A record or CA certificate that cannot be read is an error.
func Load(ctx context.Context, st *store.Store, ref string) (*Authority, error) {
	p, err := PathsFor(st, ref)
	if err != nil {
		return nil, err
	}
	certs, err := ReadCerts(p.Cert)
	if err != nil {
		return nil, err
	}
	a := &Authority{Paths: p, Cert: certs[0]}
	if !a.Cert.IsCA || !a.Cert.BasicConstraintsValid {
		return nil, errorf("%s: %w (basic constraints CA:FALSE or absent)", p.Cert, ErrNotCA)
	}
	if store.Exists(p.Chain) {
		chain, err := ReadCerts(p.Chain)
		if err != nil {
			return nil, err
		}
		if !chain[0].Equal(a.Cert) {
			return nil, errorf("%s does not start with the certificate in %s", p.Chain, p.Cert)
		}
		a.Chain = chain[1:]
	}
	if err := a.findRoot(st); err != nil {
		return nil, err
	}
	if err := a.loadStanding(ctx, st); err != nil {
		return nil, err
	}
	return a, nil
}

// Refusal is why the CA may not sign whatever the time (a *RevokedCAError,
// or a record entry of its chain that cannot be read), or nil.
func (a *Authority) Refusal() error { return a.refusal }

// findRoot sets Root: Cert itself when self-signed, else the store
// certificate that issued the top of the chain.
func (a *Authority) findRoot(st *store.Store) error {
	top := a.Cert
	if len(a.Chain) > 0 {
		top = a.Chain[len(a.Chain)-1]
	}
	if isSelfSigned(top) {
		a.Root = top
		a.Chain = trimRoot(a.Chain)
		return nil
	}
	dirs := []string{st.Dir}
	if d := filepath.Dir(a.Paths.Cert); filepath.Clean(d) != filepath.Clean(st.Dir) {
		dirs = append(dirs, d)
	}
	var problems []error
	for _, dir := range dirs {
		found, bad := ScanDir(dir)
		problems = append(problems, bad...)
		for _, s := range found {
			if isSelfSigned(s.Cert) && issuedBy(top, s.Cert) {
				a.Root = s.Cert
				return nil
			}
		}
	}
	return withProblems(errorf("%s: %w (looked for issuer %q)", a.Paths.Cert, ErrNoRoot, top.Issuer.String()), problems)
}

// trimRoot drops a self-signed certificate at the end of a chain.
func trimRoot(chain []*x509.Certificate) []*x509.Certificate {
	if n := len(chain); n > 0 && isSelfSigned(chain[n-1]) {
		return chain[:n-1]
	}
	return chain
}

// SetKey attaches the CA's private key after checking it matches Cert.
func (a *Authority) SetKey(key crypto.Signer) error {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(a.Cert.PublicKey) {
		return errorf("%s and %s: %w", a.Paths.Key, a.Paths.Cert, ErrKeyMismatch)
	}
	a.Key = key
	return nil
}

// IsRoot reports whether the CA is its own root.
func (a *Authority) IsRoot() bool { return a.Root != nil && a.Cert.Equal(a.Root) }

// Issuers is the chain a certificate signed by a has above it: a.Cert,
// then a.Chain (the root is not included; README "The store" NAME.pem).
func (a *Authority) Issuers() []*x509.Certificate {
	if a.IsRoot() {
		return nil
	}
	return append([]*x509.Certificate{a.Cert}, a.Chain...)
}

// ReadCerts reads every CERTIFICATE block of a PEM file (at least one).
func ReadCerts(path string) ([]*x509.Certificate, error) {
	data, err := store.ReadFile(path, nil)
	if err != nil {
		return nil, errorf("%w", err)
	}
	certs, err := ParseCerts(data)
	if err != nil {
		return nil, errorf("%s: %w", path, err)
	}
	return certs, nil
}

// ParseCerts decodes every CERTIFICATE block in PEM data (at least one).
func ParseCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, errorf("expected CERTIFICATE, found a %q PEM block", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, newError("malformed certificate: its DER does not parse (truncated, damaged, or a key type or curve keywright does not read)")
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errorf("%w (expected CERTIFICATE)", keygen.ErrNoPEM)
	}
	return certs, nil
}

// EncodeCerts is the PEM of certs, in order.
func EncodeCerts(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// Stored is a certificate file found in a store.
type Stored struct {
	Name string // NAME (the file name without .crt)
	Path string
	Cert *x509.Certificate
}

// IsCA reports whether s is a CA the store can sign with: a CA certificate
// with its key next to it.
func (s Stored) IsCA() bool {
	return s.Cert.IsCA && s.Cert.BasicConstraintsValid &&
		store.Exists(strings.TrimSuffix(s.Path, store.Cert.Suffix)+store.Key.Suffix)
}

// ScanDir reads every NAME.crt in dir, sorted by name. Files that do not
// parse or cannot be read are skipped and reported in the second result,
// and so is a directory that cannot be read (ErrStoreUnreadable).
func ScanDir(dir string) ([]Stored, []error) {
	names, err := CertNames(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil // no store yet: nothing in it
	case err != nil:
		return nil, []error{errorf("%w: %w", ErrStoreUnreadable, err)}
	}
	var found []Stored
	var problems []error
	for _, name := range names {
		p := filepath.Join(dir, name+store.Cert.Suffix)
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // removed meanwhile, or a dangling link
		case err != nil:
			problems = append(problems, errorf("%w", err))
			continue
		case !fi.Mode().IsRegular():
			continue
		}
		certs, err := ReadCerts(p)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		found = append(found, Stored{Name: name, Path: p, Cert: certs[0]})
	}
	return found, problems
}

// withProblems adds to err the files that could not be read on the way
// (one of them may have been what was looked for).
func withProblems(err error, problems []error) error {
	if len(problems) == 0 {
		return err
	}
	return errors.Join(append([]error{err}, problems...)...)
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// issuedBy reports whether parent signed c.
func issuedBy(c, parent *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, parent.RawSubject) && c.CheckSignatureFrom(parent) == nil
}
