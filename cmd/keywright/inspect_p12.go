package main

import (
	"crypto"
	"crypto/x509"
	"errors"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/keygen"
)

// describePKCS12 reports a PKCS#12 file (as `export p12` writes it): its key
// and certificates, with an empty password or the passphrase given
// (--passin or a prompt). Without one and without a terminal only the kind
// is reported, as for an encrypted key. It returns nil, nil for data that is not PKCS#12.
func describePKCS12(e *Env, c *InspectCmd, file string, data []byte) ([]*report, error) {
	if !ca.IsPKCS12(data) {
		return nil, nil
	}
	r := (&report{}).add("file", file).add("kind", "PKCS#12")
	// An empty password (openssl pkcs12 -passout pass:) needs no source.
	key, cert, cas, err := ca.ParsePKCS12(data, nil)
	if errors.Is(err, keygen.ErrWrongPassphrase) {
		if c.Passin == "" && !e.CanPrompt() {
			return []*report{r.add("encrypted", true)}, nil
		}
		var p12 *p12Contents
		p12, err = withPassphraseTries(e, "--passin", c.Passin, file, func(ask keygen.PassphraseFunc) (*p12Contents, error) {
			pass, err := ask()
			if err != nil {
				return nil, err
			}
			key, cert, cas, err := ca.ParsePKCS12(data, pass)
			return &p12Contents{key, cert, cas}, err
		})
		if err == nil {
			key, cert, cas = p12.key, p12.cert, p12.cas
		}
	}
	if err != nil {
		return nil, keyError(file, err)
	}
	r.add("certificates", 1+len(cas))
	kr := (&report{}).add("file", file).add("kind", "private key")
	if _, err := addPublicKey(kr, key.Public()); err != nil {
		return nil, err
	}
	reports := []*report{r, kr}
	for _, crt := range append([]*x509.Certificate{cert}, cas...) {
		cr, err := describeCert(e, file, crt)
		if err != nil {
			return nil, err
		}
		reports = append(reports, cr)
	}
	return reports, nil
}

// p12Contents is what a PKCS#12 file holds.
type p12Contents struct {
	key  crypto.Signer
	cert *x509.Certificate
	cas  []*x509.Certificate
}
