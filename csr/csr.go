package csr

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"

	"github.com/keywright/keywright/keygen"
)

// PEM block types.
const (
	BlockCSR = "CERTIFICATE REQUEST"
	// BlockCSRLegacy is what old Netscape-era tools (and some Java ones) write.
	BlockCSRLegacy = "NEW CERTIFICATE REQUEST"
	BlockCert      = "CERTIFICATE"
)

// Errors callers branch on; every error of ParseCSR wraps one of them (or
// ErrBadSAN / ErrBadSubject).
var (
	// ErrNotCSR: the input is PEM, but of another type.
	ErrNotCSR = newError("not a certificate request")
	// ErrMalformed: the request does not parse.
	ErrMalformed = newError("malformed certificate request")
	// ErrBadSignature: the request's signature does not verify: it was
	// changed after it was signed, or made wrongly.
	ErrBadSignature = newError("the request's signature does not verify (was it changed after signing?)")
	// ErrWeakKey: the request's key is of a type or size keywright refuses.
	ErrWeakKey = newError("the request's key is refused")
	// ErrNoName: neither a subject nor a SAN names what the request is for.
	ErrNoName = newError("a request needs a common name or at least one subject alternative name")
)

// Request is what Build puts into a CSR.
type Request struct {
	Subject pkix.Name
	SANs    SANs
	Key     crypto.Signer
}

// Build makes a PKCS#10 request signed by r.Key and returns it as PEM. The
// signature algorithm follows the key (SHA-384 for P-384, and so on).
func Build(r Request) ([]byte, error) {
	if r.Key == nil {
		return nil, newError("no key to sign the request with")
	}
	if err := keygen.CheckStrength(r.Key.Public()); err != nil {
		return nil, errorf("%w", err)
	}
	if err := r.SANs.Validate(); err != nil {
		return nil, err
	}
	if r.Subject.CommonName == "" && r.SANs.Empty() {
		return nil, errorf("%w", ErrNoName)
	}
	tmpl := &x509.CertificateRequest{Subject: r.Subject}
	r.SANs.ApplyToCSR(tmpl)
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, r.Key)
	if err != nil {
		return nil, errorf("%w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: BlockCSR, Bytes: der}), nil
}

// ParseCSR reads one request, PEM or DER, and accepts it only if its
// signature verifies, its key is one keywright would sign (keygen.CheckStrength)
// and its SANs pass ParseSAN in canonical form. ParseCertificateRequest
// alone checks none of these.
func ParseCSR(data []byte) (*x509.CertificateRequest, error) {
	der, err := csrDER(data)
	if err != nil {
		return nil, err
	}
	r, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, errorf("%w: its DER does not parse (truncated, damaged, or a key type or curve keywright does not read)", ErrMalformed)
	}
	if err := keygen.CheckStrength(r.PublicKey); err != nil {
		return nil, errorf("%w: %v", ErrWeakKey, err)
	}
	if err := r.CheckSignature(); err != nil {
		var insecure x509.InsecureAlgorithmError
		if errors.As(err, &insecure) {
			return nil, errorf("%w: it is signed with %v, which is not accepted", ErrBadSignature, x509.SignatureAlgorithm(insecure))
		}
		return nil, errorf("%w", ErrBadSignature)
	}
	if err := SANsOfCSR(r).Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// csrDER finds the request's DER: the first PEM block, which must be a
// request, or the input itself when it is not PEM.
func csrDER(data []byte) ([]byte, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		if IsPEMLike(data) || len(data) == 0 || data[0] != 0x30 {
			return nil, errorf("%w: neither PEM nor DER", ErrMalformed)
		}
		return data, nil
	}
	switch block.Type {
	case BlockCSR, BlockCSRLegacy:
		return block.Bytes, nil
	}
	return nil, errorf("%w: expected a %s PEM block, got %s", ErrNotCSR, BlockCSR, block.Type)
}

// IsPEMLike reports whether data looks like PEM text (even broken PEM),
// so that it is not mistaken for DER.
func IsPEMLike(data []byte) bool {
	return bytes.Contains(data, []byte("-----BEGIN "))
}
