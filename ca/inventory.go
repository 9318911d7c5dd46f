package ca

import (
	"crypto/x509"
	"time"

	"github.com/keywright/keywright/store"
)

// Certificate statuses.
const (
	StatusValid       = "valid"
	StatusExpired     = "expired"
	StatusNotYetValid = "not-yet-valid"
	StatusRevoked     = "revoked"
)

// Item is one certificate of a store with what the store knows about it.
type Item struct {
	Stored
	Issuer *Stored // the store CA that signed it (itself for a root); nil if unknown
	Entry  *Entry  // its line in the issuer's record; nil if not recorded
	Status string
}

// Inventory lists every certificate in st with its issuer, record entry
// and status at now. Files that do not parse and records that cannot be read
// are returned as problems; they do not stop the listing.
func Inventory(st *store.Store, now time.Time) ([]Item, []error) {
	all, problems := ScanDir(st.Dir)
	records := map[string]*Record{} // by CA name, each read once
	recordOf := func(issuer *Stored) *Record {
		rec, seen := records[issuer.Name]
		if seen {
			return rec
		}
		if p, err := PathsFor(st, issuer.Path); err == nil {
			if rec, err = ReadRecord(p.Record); err != nil {
				problems = append(problems, err)
			}
		}
		records[issuer.Name] = rec
		return rec
	}
	var items []Item
	for _, s := range all {
		it := Item{Stored: s, Issuer: IssuerOf(s.Cert, all)}
		if it.Issuer != nil {
			if rec := recordOf(it.Issuer); rec != nil {
				it.Entry = rec.Lookup(FormatSerial(s.Cert.SerialNumber))
			}
		}
		it.Status = StatusAt(s.Cert, it.Entry, now)
		items = append(items, it)
	}
	return items, problems
}

// StatusAt is a certificate's status at now: revoked (by the record),
// expired, not yet valid or valid.
func StatusAt(c *x509.Certificate, e *Entry, now time.Time) string {
	switch {
	case e != nil && e.Revoked:
		return StatusRevoked
	case now.After(c.NotAfter):
		return StatusExpired
	case now.Before(c.NotBefore):
		return StatusNotYetValid
	}
	return StatusValid
}

// IssuerOf finds the certificate among candidates that signed c: c itself
// when it is self-signed, else a CA whose subject is c's issuer and whose
// key verifies c's signature.
func IssuerOf(c *x509.Certificate, candidates []Stored) *Stored {
	for i := range candidates {
		s := &candidates[i]
		if s.Cert.Equal(c) {
			if isSelfSigned(c) {
				return s
			}
			continue
		}
		if s.Cert.IsCA && issuedBy(c, s.Cert) {
			return s
		}
	}
	return nil
}

// LookupIssued returns the record entry of c in the record of CA issuer.
func LookupIssued(st *store.Store, issuer Stored, c *x509.Certificate) (*Entry, error) {
	p, err := PathsFor(st, issuer.Path)
	if err != nil {
		return nil, err
	}
	rec, err := ReadRecord(p.Record)
	if err != nil {
		return nil, err
	}
	return rec.Lookup(FormatSerial(c.SerialNumber)), nil
}
