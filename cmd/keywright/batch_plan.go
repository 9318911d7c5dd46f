package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/store"
)

// What batch does with an entry (README "Many at once: batch"): the actions of the report.
const (
	actIssued  = "issued"
	actRenewed = "renewed"
	actSkipped = "skipped"
	actFailed  = "failed"
)

// certPlan is what batch will do with one certificate entry, decided from
// the store before anything is written. It keeps no certificate or key.
type certPlan struct {
	action   string    // actIssued, actRenewed, actSkipped or actFailed
	force    bool      // the files exist and are replaced
	ca       string    // the CA that signs (the entry's, or the store's only one)
	renews   string    // actRenewed: the serial renewed
	renewsFP string    // actRenewed: its fingerprint (ca.IssueRequest.RenewsSHA256)
	serial   string    // actSkipped: the certificate kept
	notAfter time.Time // actSkipped, actRenewed: when the certificate kept or renewed ends
	err      error     // actFailed: why
}

// planner decides certPlans: every existing certificate is read and found
// in the record (one connection for the whole plan).
type planner struct {
	e       *Env
	st      *store.Store
	cas     batchCAs
	now     time.Time
	renewBy time.Time // certificates ending before it are renewed
	force   bool
	db      *ca.DB // opened on first need; nil when the store has no record
	dbErr   error
	dbOpen  bool
}

func (p *planner) close() {
	if p.db != nil {
		p.db.Close()
	}
}

// record is the store's record database, or nil when it has none (a
// plan never creates one).
func (p *planner) record() (*ca.DB, error) {
	if !p.dbOpen {
		p.dbOpen = true
		if ca.ExistsDB(p.st.Dir) {
			p.db, p.dbErr = ca.OpenDB(p.e.Ctx, p.st.Dir, discoveryWait)
		}
	}
	return p.db, p.dbErr
}

// discoveryWait bounds the wait for the record database while planning.
const discoveryWait = 30 * time.Second

// certFiles are an entry's four files.
func certFiles(st *store.Store, name string) (ca.RenewalPaths, error) {
	var p ca.RenewalPaths
	var err error
	for _, f := range []struct {
		dst  *string
		kind store.Kind
	}{{&p.Key, store.Key}, {&p.CSR, store.CSR}, {&p.Cert, store.Cert}, {&p.Chain, store.Chain}} {
		if *f.dst, err = st.Sibling(name, f.kind); err != nil {
			return p, err
		}
	}
	return p, nil
}

// cert plans one certificate entry: missing → issued; present, valid, not
// revoked, same SANs and CA → skipped; ending before renewBy → renewed;
// present but different → failed, or with --force issued anew.
func (p *planner) cert(ent *CertEntry) certPlan {
	pl := certPlan{ca: ent.CA}
	if pl.ca == "" {
		pl.ca = p.cas.defaultCA
	}
	paths, err := certFiles(p.st, ent.Name)
	if err != nil {
		return pl.fail(err)
	}
	if !store.Exists(paths.Cert) {
		return p.missing(pl, ent.Name, paths)
	}
	certs, err := ca.ReadCerts(paths.Cert)
	if err != nil {
		return p.differs(pl, err)
	}
	s := ca.Stored{Name: ent.Name, Path: paths.Cert, Cert: certs[0]}
	e, err := p.entryOf(s)
	if err != nil {
		return pl.fail(err)
	}
	r, err := ca.RenewalOf(s, e)
	switch {
	case errors.Is(err, ca.ErrRenewCA):
		return pl.fail(errorf("%s is a CA certificate: a CA is never replaced by a leaf, --force or not", paths.Cert))
	case errors.Is(err, ca.ErrNotRecorded):
		return p.differs(pl, errorf("%s is not a certificate this store's CAs issued (the record has no certificate with its fingerprint)", paths.Cert))
	case err != nil:
		return p.differs(pl, err)
	case r.Entry.CA != pl.ca:
		return p.differs(pl, errorf("%s was issued by CA %s; the manifest says CA %s", paths.Cert, r.Entry.CA, pl.ca))
	}
	if have, want := sanSet(csr.SANsOf(s.Cert)), sanSet(ent.SANs); !slices.Equal(have, want) {
		return p.differs(pl, errorf("%s has SANs %s; the manifest says %s", paths.Cert, strings.Join(have, ", "), strings.Join(want, ", ")))
	}
	pl.notAfter = s.Cert.NotAfter.UTC()
	if s.Cert.NotAfter.Before(p.renewBy) {
		pl.action, pl.force, pl.renews, pl.renewsFP = actRenewed, true, r.Entry.Serial, r.Entry.SHA256
		return pl
	}
	pl.action, pl.serial = actSkipped, r.Entry.Serial
	return pl
}

// missing plans an entry whose NAME.crt does not exist. Its other files
// may: the key and request of an issue that was killed before its
// certificate was placed (the record names NAME's certificate, whose file
// never appeared) are replaced; any other file is the user's, replaced only
// with --force.
func (p *planner) missing(pl certPlan, name string, paths ca.RenewalPaths) certPlan {
	pl.action = actIssued
	var present []string
	for _, f := range []string{paths.Key, paths.CSR, paths.Chain} {
		if store.Exists(f) {
			present = append(present, f)
		}
	}
	if len(present) == 0 {
		return pl
	}
	pl.force = true
	if p.force {
		return pl
	}
	left, err := p.leftover(name, paths.Cert)
	if err != nil {
		return pl.fail(err)
	}
	if left {
		return pl
	}
	return pl.fail(withHint(errorf("%s exists without %s", present[0], paths.Cert),
		"--force replaces %s's files with a new key and certificate", name))
}

// leftover reports whether the record's newest certificate of NAME was
// to be written at certPath (so its missing file, and the key and request
// that were placed before it, are what a killed keywright left).
func (p *planner) leftover(name, certPath string) (bool, error) {
	db, err := p.record()
	if db == nil || err != nil {
		return false, err
	}
	var newest *ca.Entry
	err = db.ByName(p.e.Ctx, name, func(e *ca.Entry) error { newest = e; return nil })
	if err != nil || newest == nil {
		return false, err
	}
	return db.PathOf(newest) == certPath, nil
}

// entryOf is the record entry of certificate s: the one of its NAME whose
// SHA-256 is the file's (nil when none is).
func (p *planner) entryOf(s ca.Stored) (*ca.Entry, error) {
	db, err := p.record()
	if db == nil || err != nil {
		return nil, err
	}
	sum := sha256.Sum256(s.Cert.Raw)
	want := hex.EncodeToString(sum[:])
	var match *ca.Entry
	err = db.ByName(p.e.Ctx, s.Name, func(e *ca.Entry) error {
		if e.SHA256 == want {
			match = e
		}
		return nil
	})
	return match, err
}

// differs is an entry whose certificate is not what the manifest asks
// for: failed, or with --force issued anew (a new key and certificate).
func (p *planner) differs(pl certPlan, err error) certPlan {
	if p.force {
		pl.action, pl.force = actIssued, true
		return pl
	}
	return pl.fail(withHint(err, "--force issues it anew as the manifest says (a new key and certificate)"))
}

func (pl certPlan) fail(err error) certPlan {
	pl.action, pl.err = actFailed, err
	return pl
}

// sanSet is the SANs as sorted "kind:value" strings, for comparing.
func sanSet(s csr.SANs) []string {
	v := s.Values()
	slices.Sort(v)
	return slices.Compact(v)
}
