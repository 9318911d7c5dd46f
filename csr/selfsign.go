package csr

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"math/big"
	"net/url"
	"time"

	"github.com/keywright/keywright/keygen"
)

// Leaf validity in days (README "Certificate authority"): the default, the length over which the
// CLI warns (CA/B BR limit from 2026-03-15) and the longest allowed
// (Apple's limit for TLS server certificates).
const (
	DefaultDays = 90
	WarnDays    = 200
	MaxDays     = 825
)

// Backdate is how far before now a certificate starts, for clocks that lag.
const Backdate = 5 * time.Minute

// ErrValidity: the validity asked for is refused.
var ErrValidity = newError("invalid validity")

// ErrNoSAN: a leaf certificate must name at least one SAN (README "Certificate authority").
var ErrNoSAN = newError("a certificate needs at least one subject alternative name")

// SelfSignRequest is what SelfSign makes a certificate from.
type SelfSignRequest struct {
	Subject pkix.Name
	SANs    SANs
	Key     crypto.Signer
	Days    int       // 0 means DefaultDays
	Now     time.Time // zero means time.Now()
	Rand    io.Reader // nil means crypto/rand
}

// CheckDays returns the leaf validity to use: DefaultDays for 0, an error
// below 0 or over MaxDays.
func CheckDays(days int) (int, error) {
	switch {
	case days == 0:
		return DefaultDays, nil
	case days < 0:
		return 0, errorf("%w: %d days; give a positive number", ErrValidity, days)
	case days > MaxDays:
		return 0, errorf("%w: %d days is over the %d-day limit for leaf certificates", ErrValidity, days, MaxDays)
	}
	return days, nil
}

// SelfSign makes a self-signed leaf certificate (CA:FALSE, critical) and
// returns it as PEM: key usage by key type, EKU serverAuth and clientAuth,
// the SANs, a CN that is one of them, a random serial, SKI, not-before
// Backdate before Now.
func SelfSign(s SelfSignRequest) ([]byte, error) {
	if s.Key == nil {
		return nil, newError("no key to sign the certificate with")
	}
	if err := keygen.CheckStrength(s.Key.Public()); err != nil {
		return nil, errorf("%w", err)
	}
	days, err := CheckDays(s.Days)
	if err != nil {
		return nil, err
	}
	tmpl, err := leafTemplate(s, days)
	if err != nil {
		return nil, err
	}
	rnd := s.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	der, err := x509.CreateCertificate(rnd, tmpl, tmpl, s.Key.Public(), s.Key)
	if err != nil {
		return nil, errorf("%w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, errorf("the new certificate does not parse: %w", err)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return nil, errorf("the new certificate does not verify: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: BlockCert, Bytes: der}), nil
}

func leafTemplate(s SelfSignRequest, days int) (*x509.Certificate, error) {
	sans, err := AddCommonName(s.Subject, s.SANs)
	if err != nil {
		return nil, err
	}
	subject := s.Subject
	if len(subject.ToRDNSequence()) == 0 {
		// The issuer of a self-signed certificate is its subject, and an
		// issuer must not be empty (RFC 5280 4.1.2.4).
		switch {
		case len(sans.DNS) > 0:
			subject.CommonName = sans.DNS[0]
		case len(sans.IPs) > 0:
			subject.CommonName = sans.IPs[0].String()
		default:
			return nil, errorf("a self-signed certificate needs a subject; give a common name")
		}
	}
	serial, err := RandomSerial(s.Rand)
	if err != nil {
		return nil, err
	}
	ski, err := SubjectKeyID(s.Key.Public())
	if err != nil {
		return nil, err
	}
	now := s.Now
	if now.IsZero() {
		now = time.Now()
	}
	notBefore := now.Add(-Backdate).UTC().Truncate(time.Second)
	t := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(time.Duration(days)*24*time.Hour - time.Second),
		KeyUsage:              LeafKeyUsage(s.Key.Public()),
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          ski,
		// RFC 5280 4.2.1.1 exempts only self-signed CA certificates from
		// AKI (zlint e_ext_authority_key_identifier_no_key_identifier).
		AuthorityKeyId: ski,
	}
	sans.ApplyToCert(t)
	return t, nil
}

// AddCommonName returns sans with the subject's CN among them (README "Certificate authority": the
// CN of a leaf is one of its SANs): unchanged when it is there already, with
// the CN added when it is a DNS name or an IP address, and an error
// otherwise. The CN must be written exactly as the SAN is (lower case,
// punycode), since clients compare them byte for byte. It also refuses an
// empty result (ErrNoSAN).
func AddCommonName(subject pkix.Name, sans SANs) (SANs, error) {
	if err := sans.Validate(); err != nil {
		return SANs{}, err
	}
	cn := subject.CommonName
	if cn != "" {
		kind, canon, err := ParseSAN(cn)
		switch {
		case err != nil || (kind != KindDNS && kind != KindIP):
			return SANs{}, errorf("CN %q must be one of the SANs, and it is not a DNS name or an IP address to add as one", cn)
		case canon != cn:
			return SANs{}, errorf("CN %q must be written as its SAN is: %q", cn, canon)
		}
		if !sans.has(kind, canon) {
			// The CN first: it is the name people think of.
			var first SANs
			first.add(kind, canon)
			sans = SANs{
				DNS:    append(first.DNS, sans.DNS...),
				IPs:    append(first.IPs, sans.IPs...),
				Emails: append([]string(nil), sans.Emails...),
				URIs:   append([]*url.URL(nil), sans.URIs...),
			}
		}
	}
	if sans.Empty() {
		return SANs{}, errorf("%w", ErrNoSAN)
	}
	return sans, nil
}

// LeafKeyUsage is the key usage of a leaf for pub's type: digitalSignature,
// plus keyEncipherment for RSA only (RFC 5480 3 forbids it for ECDSA; zlint
// e_ecdsa_allowed_ku).
func LeafKeyUsage(pub crypto.PublicKey) x509.KeyUsage {
	if _, ok := pub.(*rsa.PublicKey); ok {
		return x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}
	return x509.KeyUsageDigitalSignature
}

// SubjectKeyID is the SHA-1 of the subjectPublicKey BIT STRING (RFC 5280
// 4.2.1.2, method 1), what openssl computes.
func SubjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return nil, errorf("%w: a public key that is not RSA, ECDSA or Ed25519", keygen.ErrUnsupported)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, errorf("%w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, errorf("%w", err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}

// serialBytes random bytes make a serial: 128 bits from the CSPRNG (BR 7.1
// asks for 64; EJBCA's 63-bit serials forced mass revocation).
const serialBytes = 16

// RandomSerial returns a certificate serial number (README "Certificate authority"), for
// self-signed certificates here and for package ca, which also checks it
// against the CA's record: a 0x01 byte followed by 128 random bits from r
// (nil: crypto/rand), so it is always positive, always 129 bits long and
// encodes as a 17-octet DER INTEGER (RFC 5280 §4.1.2.2 allows up to 20).
func RandomSerial(r io.Reader) (*big.Int, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, serialBytes+1)
	b[0] = 0x01
	if _, err := io.ReadFull(r, b[1:]); err != nil {
		return nil, errorf("serial number: %w", err)
	}
	return new(big.Int).SetBytes(b), nil
}
