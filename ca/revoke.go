package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/keywright/keywright/store"
)

// Errors of revocation.
var (
	ErrNotIssued      = newError("not issued by this CA")
	ErrAlreadyRevoked = newError("already revoked")
)

// reasons are the RFC 5280 §5.3.1 CRLReason codes keywright offers, by the
// name --reason takes. certificateHold (6) is left out: a hold is not a
// revocation and most clients handle it badly; removeFromCRL (8) only
// makes sense with holds and delta CRLs.
var reasons = map[string]int{
	"unspecified":            0,
	"key-compromise":         1,
	"ca-compromise":          2,
	"affiliation-changed":    3,
	"superseded":             4,
	"cessation-of-operation": 5,
	"privilege-withdrawn":    9,
	"aa-compromise":          10,
}

// ReasonNames lists the reasons --reason accepts, sorted.
func ReasonNames() []string {
	names := make([]string, 0, len(reasons))
	for n := range reasons {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParseReason accepts a reason as "key-compromise" or as RFC 5280 spells it
// ("keyCompromise"), any case; "" is unspecified.
func ParseReason(s string) (string, error) {
	if s == "" {
		return "unspecified", nil
	}
	want := strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s))
	for name := range reasons {
		if strings.ReplaceAll(name, "-", "") == want {
			return name, nil
		}
	}
	return "", errorf("%q is not a revocation reason: use one of %s", s, strings.Join(ReasonNames(), ", "))
}

// ReasonCode is the RFC 5280 CRLReason code of a reason name.
func ReasonCode(name string) (int, error) {
	n, err := ParseReason(name)
	if err != nil {
		return 0, err
	}
	return reasons[n], nil
}

// RevokeRequest names the certificate to revoke by serial.
type RevokeRequest struct {
	Serial *big.Int
	// File, when the serial was read from a certificate file (revoke NAME),
	// is that file: under the CA's lock it must still hold Serial, else the
	// certificate was renewed or replaced meanwhile and nothing is revoked
	// (ErrRenewedMeanwhile), as revoke after that renewal would have revoked
	// the new one.
	File        string
	Reason      string // as ParseReason returns it
	Now         time.Time
	LockTimeout time.Duration
}

// Revoke marks a certificate the CA issued as revoked in its record. The
// next CRL lists it.
func (a *Authority) Revoke(ctx context.Context, r RevokeRequest) (*Entry, error) {
	if r.Now.IsZero() {
		r.Now = time.Now()
	}
	reason, err := ParseReason(r.Reason)
	if err != nil {
		return nil, err
	}
	rec, done, err := a.openRecord(ctx, r.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer done()
	if r.File != "" {
		if certs, err := ReadCerts(r.File); err != nil || certs[0].SerialNumber.Cmp(r.Serial) != 0 {
			return nil, errorf("%s: %w; nothing was revoked (run revoke again for the certificate now in place)",
				r.File, notInPlace(FormatSerial(r.Serial)))
		}
	}
	var e *Entry
	err = store.Critical(func() (err error) {
		e, err = rec.Revoked(ctx, FormatSerial(r.Serial), reason, r.Now.UTC().Truncate(time.Second))
		return err
	})
	return e, err
}

// CRLRequest is `ca crl`.
type CRLRequest struct {
	Path        string // where CA.crl goes (replaced: a CRL is reissued in place)
	Days        int    // until nextUpdate; 0: DefaultCRLDays
	Now         time.Time
	LockTimeout time.Duration
}

// DefaultCRLDays is the CRL lifetime when --days is not given (openssl
// ca's default_crl_days is 30; a week keeps revocations from going stale).
const DefaultCRLDays = 7

// CRL is a signed CRL and its number.
type CRL struct {
	PEM    []byte
	List   *x509.RevocationList
	Number int64
}

// CRL signs a CRL of every certificate the record lists as revoked, with
// the next CRL number, records the number and writes the file.
func (a *Authority) CRL(ctx context.Context, r CRLRequest) (*CRL, error) {
	if r.Now.IsZero() {
		r.Now = time.Now()
	}
	if r.Days == 0 {
		r.Days = DefaultCRLDays
	}
	if r.Days < 1 || r.Days > MaxCRLDays {
		return nil, errorf("%w: a CRL of %d days: use 1 to %d", ErrValidity, r.Days, MaxCRLDays)
	}
	if a.Cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return nil, errorf("%w: %s lacks the cRLSign key usage", ErrIssuerCannotSign, a.Paths.Name)
	}
	rec, done, err := a.openRecord(ctx, r.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := checkIssuerTime(a.Paths.Name, append(a.Issuers(), a.Root), r.Now, Window{}); err != nil {
		return nil, err
	}
	d, err := rec.NextCRL(ctx)
	if err != nil {
		return nil, err
	}
	out, err := a.signCRL(d, r)
	if err != nil {
		return nil, err
	}
	tx := &store.Tx{Force: true}
	tx.Add(r.Path, out.PEM, store.CRL.Mode)
	at := r.Now.UTC().Truncate(time.Second)
	record := func(p []store.Pending) (func() error, error) {
		return rec.IssuedCRL(ctx, d.Number, at, out.List.NextUpdate, p)
	}
	if err := commitRecorded(rec.db, tx, record); err != nil {
		return nil, err
	}
	return out, nil
}

func (a *Authority) signCRL(d CRLDraft, r CRLRequest) (*CRL, error) {
	this := r.Now.Add(-Backdate).Truncate(time.Second).UTC()
	for _, e := range d.Revoked {
		// Backdated for clocks that lag, but never to before a revocation
		// it lists: a CRL issued before a revocation cannot report it.
		if e.RevokedAt.After(this) {
			this = e.RevokedAt.UTC()
		}
	}
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(d.Number),
		ThisUpdate: this,
		NextUpdate: this.Add(time.Duration(r.Days) * 24 * time.Hour),
	}
	for _, e := range d.Revoked {
		n, err := ParseSerial(e.Serial)
		if err != nil {
			return nil, err
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: n, RevocationTime: e.RevokedAt.UTC(), ReasonCode: reasons[e.Reason],
		})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, a.Cert, a.Key)
	if err != nil {
		return nil, errorf("signing the CRL of %s: %w", a.Paths.Name, err)
	}
	list, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, errorf("the new CRL does not parse: %w", err)
	}
	if err := list.CheckSignatureFrom(a.Cert); err != nil {
		return nil, errorf("the new CRL does not verify: %w", err)
	}
	return &CRL{PEM: pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), List: list, Number: d.Number}, nil
}
