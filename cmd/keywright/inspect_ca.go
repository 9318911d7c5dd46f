package main

// inspect for what the CA makes: CRLs (registered in pemDescribers as
// "X509 CRL") and chains, shown as a tree from the root down to the leaf
// when a file holds several certificates (NAME.pem).

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/keywright/keywright/ca"
)

// blockCRL is the PEM type of a CRL (RFC 7468 §5).
const blockCRL = "X509 CRL"

func describeCRLBlock(e *Env, _ *InspectCmd, file string, block *pem.Block) (*report, error) {
	crl, err := x509.ParseRevocationList(block.Bytes)
	if err != nil {
		return nil, errorf("%s: not a CRL: its DER does not parse as an X.509 CRL", file)
	}
	r := (&report{}).add("file", file).add("kind", "CRL")
	r.add("issuer", crl.Issuer.String())
	if crl.Number != nil {
		r.add("crl_number", crl.Number.String())
	}
	r.add("this_update", crl.ThisUpdate.UTC().Format(time.RFC3339))
	r.add("next_update", crl.NextUpdate.UTC().Format(time.RFC3339))
	if !crl.NextUpdate.IsZero() && e.Now().After(crl.NextUpdate) {
		r.add("status", "stale (past its next update)")
	}
	r.add("signature", crlSignature(e, crl))
	var revoked []*report
	for _, entry := range crl.RevokedCertificateEntries {
		er := (&report{}).add("serial", ca.FormatSerial(entry.SerialNumber)).
			add("revoked_at", entry.RevocationTime.UTC().Format(time.RFC3339))
		if entry.ReasonCode != 0 {
			er.add("reason", reasonName(entry.ReasonCode))
		}
		revoked = append(revoked, er)
	}
	r.add("revoked_count", len(revoked))
	if len(revoked) > 0 {
		r.add("revoked", revoked)
	}
	return r, nil
}

// crlSignature checks the CRL against the store CA with its issuer's name.
func crlSignature(e *Env, crl *x509.RevocationList) string {
	known, _ := ca.KnownCAs(e.Ctx, e.Store())
	for _, s := range known {
		if s.Cert.IsCA && s.Cert.Subject.String() == crl.Issuer.String() && crl.CheckSignatureFrom(s.Cert) == nil {
			return "verified by CA " + s.Name
		}
	}
	return "not checked (its CA is not in the store)"
}

func reasonName(code int) string {
	for _, n := range ca.ReasonNames() {
		if c, _ := ca.ReasonCode(n); c == code {
			return n
		}
	}
	return fmt.Sprintf("reason %d", code)
}

// chainReport renders the certificates of one file as a tree from the
// root to the leaf, with the root taken from the store when the file lacks
// it (NAME.pem holds the leaf and intermediates only). Nil for fewer than
// two certificates.
func chainReport(e *Env, file string, data []byte) *report {
	certs, err := ca.ParseCerts(data)
	if err != nil || len(certs) < 2 {
		return nil
	}
	chain := append([]*x509.Certificate(nil), certs...)
	top := chain[len(chain)-1]
	if issuer := ca.FindIssuer(e.Ctx, e.Store(), top); issuer != nil && !issuer.Cert.Equal(top) {
		chain = append(chain, issuer.Cert)
	}
	var node *report
	for i, c := range chain {
		n := (&report{}).add("subject", c.Subject.String()).add("not_after", c.NotAfter.UTC().Format(time.RFC3339))
		if i == len(chain)-1 && i >= len(certs) {
			n.add("from", "the store (not in "+file+")")
		}
		if i < len(chain)-1 {
			n.add("signature_valid", c.CheckSignatureFrom(chain[i+1]) == nil)
		}
		if node != nil {
			n.add("issued", node)
		}
		node = n
	}
	return (&report{}).add("file", file).add("kind", "certificate chain").add("root", node)
}
