package main

import (
	"crypto/x509"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/store"
)

// ExportCmd groups the export formats.
type ExportCmd struct {
	P12 ExportP12Cmd `cmd:"" name:"p12" help:"NAME.p12 (PKCS#12) with the key, certificate and chain."`
}

// ExportP12Cmd is `export p12 NAME`.
type ExportP12Cmd struct {
	Name    string `arg:"" help:"Certificate NAME (NAME.key, NAME.crt or NAME.pem) or a path to its certificate." completion-predictor:"cert"`
	Legacy  bool   `help:"3DES and SHA-1 (for old Windows, macOS and Java) instead of AES-256 and PBKDF2."`
	Passin  string `help:"Passphrase source for an encrypted NAME.key." placeholder:"SRC" type:"source"`
	Passout string `help:"Passphrase source for the PKCS#12 file (default: asked twice)." placeholder:"SRC" type:"source"`
}

func (c *ExportP12Cmd) Run(e *Env) error {
	out, err := e.Store().Sibling(c.Name, store.P12)
	if err != nil {
		return err
	}
	if err := refuseExisting(e, out); err != nil {
		return err
	}
	certs, err := exportChain(e, c.Name)
	if err != nil {
		return err
	}
	keyPath, err := e.Store().Sibling(c.Name, store.Key)
	if err != nil {
		return err
	}
	k, err := loadKey(e, keyPath, "--passin", c.Passin)
	if err != nil {
		return err
	}
	pass, err := passphraseNew(e, "--passout", c.Passout, out)
	if err != nil {
		return err
	}
	data, err := ca.PKCS12(k.Key, certs[0], certs[1:], pass, c.Legacy, store.BaseName(c.Name))
	if err != nil {
		return errorf("%s and %s: %w", keyPath, displayPath(out), err)
	}
	if err := store.WriteFile(out, data, store.P12.Mode, e.Globals.Force); err != nil {
		return err
	}
	e.Result().add("p12", out).add("ca_certificates", len(certs)-1).
		add("encryption", map[bool]string{true: "legacy-3des-sha1", false: "aes-256-cbc-pbkdf2"}[c.Legacy])
	e.UI.Infof("wrote %s: key, certificate and %d CA certificate(s), %s", out, len(certs)-1,
		map[bool]string{true: "legacy 3DES/SHA-1 encryption", false: "AES-256/PBKDF2 encryption"}[c.Legacy])
	return nil
}

// exportChain is the certificate, its intermediates and, when the store
// holds it, the root.
func exportChain(e *Env, ref string) ([]*x509.Certificate, error) {
	path, err := e.Store().Sibling(ref, store.Chain)
	if err != nil {
		return nil, err
	}
	if !store.Exists(path) {
		if path, err = e.Store().Sibling(ref, store.Cert); err != nil {
			return nil, err
		}
	}
	certs, err := ca.ReadCerts(path)
	if err != nil {
		return nil, err
	}
	top := certs[len(certs)-1]
	if issuer := ca.FindIssuer(e.Ctx, e.Store(), top); issuer != nil && !issuer.Cert.Equal(top) {
		certs = append(certs, issuer.Cert)
	}
	return certs, nil
}
