package main

import (
	"bytes"
	"math/big"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/store"
)

// CARevokeCmd is `ca revoke NAME|SERIAL --ca CA`.
type CARevokeCmd struct {
	Ref         string        `arg:"" name:"name-or-serial" help:"Certificate NAME (or file) or serial number (hex)." completion-predictor:"cert"`
	CA          string        `name:"ca" required:"" help:"The CA that issued it." placeholder:"CA" completion-predictor:"ca"`
	Reason      string        `help:"unspecified, key-compromise, ca-compromise, affiliation-changed, superseded, cessation-of-operation, privilege-withdrawn, aa-compromise." default:"unspecified"`
	LockTimeout time.Duration `name:"lock-timeout" help:"How long to wait for another keywright process using the same CA." default:"30s"`
}

func (c *CARevokeCmd) Run(e *Env) error {
	if _, err := ca.ParseReason(c.Reason); err != nil {
		return usagef("--reason: %s", message(err))
	}
	a, err := loadCACert(e, c.CA)
	if err != nil {
		return err
	}
	serial, file, err := c.serial(e, a)
	if err != nil {
		return err
	}
	entry, err := a.Revoke(e.Ctx, ca.RevokeRequest{Serial: serial, File: file, Reason: c.Reason, Now: e.Now(), LockTimeout: c.LockTimeout})
	if err != nil {
		return busyHint(err)
	}
	e.Result().add("ca", a.Paths.Name).add("serial", entry.Serial).add("subject", entry.Subject).add("file", entry.File).
		add("reason", entry.Reason).add("revoked_at", entry.RevokedAt.UTC().Format(time.RFC3339))
	e.UI.Infof("revoked %s (serial %s, %s) in %s", entry.File, entry.Serial, entry.Subject, a.Paths.Record)
	e.UI.Infof("publish it with: keywright ca crl %s", c.CA)
	return nil
}

// serial is the serial of certificate file NAME, and that file, when there
// is one; else Ref read as a serial number.
func (c *CARevokeCmd) serial(e *Env, a *ca.Authority) (*big.Int, string, error) {
	path, err := e.Store().Resolve(c.Ref, store.Cert)
	if err == nil && store.Exists(path) {
		certs, err := ca.ReadCerts(path)
		if err != nil {
			return nil, "", err
		}
		if !bytes.Equal(certs[0].RawIssuer, a.Cert.RawSubject) || certs[0].CheckSignatureFrom(a.Cert) != nil {
			return nil, "", errorf("%s was not issued by CA %s", path, a.Paths.Name)
		}
		return certs[0].SerialNumber, path, nil
	}
	n, serr := ca.ParseSerial(c.Ref)
	if serr != nil {
		return nil, "", usagef("%q is neither a certificate in store %s nor a serial number", c.Ref, storeName(e))
	}
	return n, "", nil
}

// CACRLCmd is `ca crl CA`.
type CACRLCmd struct {
	CA         string `arg:"" name:"ca" help:"The CA whose CRL to sign; written as CA.crl (replacing the previous one)." completion-predictor:"ca"`
	Days       int    `help:"Days until the CRL's next update." default:"7"`
	CAKeyFlags `embed:""`
}

func (c *CACRLCmd) Run(e *Env) error {
	if _, err := crlDays.checkInt(c.Days); err != nil {
		return err
	}
	a, err := loadAuthority(e, c.CA, c.CAKeyFlags)
	if err != nil {
		return err
	}
	path, err := e.Store().Sibling(c.CA, store.CRL)
	if err != nil {
		return err
	}
	crl, err := a.CRL(e.Ctx, ca.CRLRequest{Path: path, Days: c.Days, Now: e.Now(), LockTimeout: c.LockTimeout})
	if err != nil {
		return busyHint(err)
	}
	e.Result().add("ca", a.Paths.Name).add("crl", path).add("crl_number", crl.Number).
		add("revoked", len(crl.List.RevokedCertificateEntries)).add("next_update", crl.List.NextUpdate.UTC().Format(time.RFC3339))
	e.UI.Infof("wrote CRL number %d of %s to %s: %d revoked, next update %s", crl.Number, a.Paths.Name, path,
		len(crl.List.RevokedCertificateEntries), day(crl.List.NextUpdate))
	return nil
}
