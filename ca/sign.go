package ca

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/keygen"
)

// Errors of the signing policy.
var (
	ErrIssuerCannotSign = newError("the issuer cannot sign certificates")
	ErrPathLen          = newError("path length")
	ErrWouldNotVerify   = newError("the certificate would not verify")
	ErrNoKey            = newError("the CA key is not loaded")
)

// SignRequest is what a certificate says: everything else comes from the
// profile and the policy. From a CSR only Subject, SANs and PublicKey are
// taken (never its CA flag, key usages or other extensions).
type SignRequest struct {
	Subject   pkix.Name
	SANs      csr.SANs
	PublicKey crypto.PublicKey
	Profile   Profile
	Days      int       // 0: the profile's default
	Now       time.Time // the zero time means time.Now()
	Serial    *big.Int  // nil: csr.RandomSerial

	// For the ca profile only.
	PathLen     int // -1: no limit; otherwise the pathLenConstraint
	Constraints Constraints
}

// Signed is a new certificate and the chain to serve with it.
type Signed struct {
	Cert     *x509.Certificate
	Chain    []*x509.Certificate // Cert then the issuing intermediates, no root (NAME.pem)
	Warnings []string
}

// Sign applies the policy and signs: it refuses a request the CA may not
// grant (with the reason), then checks the new certificate against the CA's
// chain the way a client will, for every DNS name and key usage, today and
// on its last day, before returning it.
func (a *Authority) Sign(r SignRequest) (*Signed, error) {
	if r.Now.IsZero() {
		r.Now = time.Now()
	}
	tmpl, warnings, err := a.template(r)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, r.PublicKey, a.Key)
	if err != nil {
		return nil, errorf("signing with %s: %w", a.Paths.Name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, errorf("the new certificate does not parse: %w", err)
	}
	if err := a.verifyIssued(cert, r.Now); err != nil {
		return nil, err
	}
	chain := append([]*x509.Certificate{cert}, a.Issuers()...)
	return &Signed{Cert: cert, Chain: chain, Warnings: warnings}, nil
}

// template checks the request against the policy and builds the certificate.
func (a *Authority) template(r SignRequest) (*x509.Certificate, []string, error) {
	if a.Key == nil {
		return nil, nil, errorf("%s: %w", a.Paths.Name, ErrNoKey)
	}
	if a.refusal != nil {
		return nil, nil, a.CanSign(r.Now)
	}
	if err := checkIssuer(a.Paths.Name, a.Cert); err != nil {
		return nil, nil, err
	}
	if err := a.checkKey(r.PublicKey); err != nil {
		return nil, nil, err
	}
	if err := a.checkPathLen(r); err != nil {
		return nil, nil, err
	}
	if err := keygen.CheckStrength(r.PublicKey); err != nil {
		return nil, nil, errorf("%w", err)
	}
	w, warnings, err := r.window()
	if err != nil {
		return nil, nil, err
	}
	chain := append(a.Issuers(), a.Root)
	if r.Days == 0 {
		// A default lifetime shortens to fit the CA; an explicit one is refused.
		if end := chainEnd(chain); w.NotAfter.After(end) && !r.Now.After(end) {
			w.NotAfter = end
			warnings = append(warnings, fmt.Sprintf("the certificate ends on %s with CA %q's chain, sooner than the default", day(end), a.Paths.Name))
		}
	}
	if err := checkIssuerTime(a.Paths.Name, chain, r.Now, w); err != nil {
		return nil, nil, err
	}
	t, err := baseTemplate(r, w)
	if err != nil {
		return nil, nil, err
	}
	if r.Profile.CA {
		err = a.caExtensions(t, r)
	} else if err = leafExtensions(t, r); err == nil {
		err = checkNames(t, a.Paths.Name, a.fullChain())
	}
	return t, warnings, err
}

// chainEnd is the earliest not-after in chain.
func chainEnd(chain []*x509.Certificate) time.Time {
	end := chain[0].NotAfter
	for _, c := range chain[1:] {
		if c.NotAfter.Before(end) {
			end = c.NotAfter
		}
	}
	return end
}

func (r SignRequest) window() (Window, []string, error) {
	if r.Profile.CA {
		w, err := caWindow(r.Now, r.Days, DefaultIntermediateYears)
		return w, nil, err
	}
	return leafWindow(r.Now, r.Days)
}

func baseTemplate(r SignRequest, w Window) (*x509.Certificate, error) {
	serial := r.Serial
	if serial == nil {
		var err error
		if serial, err = csr.RandomSerial(nil); err != nil {
			return nil, err
		}
	}
	ski, err := csr.SubjectKeyID(r.PublicKey)
	if err != nil {
		return nil, errorf("%w", err)
	}
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               r.Subject,
		NotBefore:             w.NotBefore,
		NotAfter:              w.NotAfter,
		BasicConstraintsValid: true,
		KeyUsage:              r.Profile.KeyUsage(r.PublicKey),
		ExtKeyUsage:           r.Profile.EKU,
		SubjectKeyId:          ski,
	}, nil
}

// checkIssuer refuses an issuer that is not a CA or lacks keyCertSign.
func checkIssuer(name string, c *x509.Certificate) error {
	switch {
	case !c.BasicConstraintsValid || !c.IsCA:
		return errorf("%w: %s is not a CA certificate (basic constraints CA:FALSE or absent)", ErrIssuerCannotSign, name)
	case c.KeyUsage&x509.KeyUsageCertSign == 0:
		return errorf("%w: %s lacks the keyCertSign key usage", ErrIssuerCannotSign, name)
	}
	return nil
}

// caExtensions makes t a subordinate CA: path length below the issuer's,
// name constraints, no SANs, no EKU.
func (a *Authority) caExtensions(t *x509.Certificate, r SignRequest) error {
	if r.Subject.CommonName == "" {
		return errorf("a CA certificate needs a subject common name")
	}
	t.IsCA = true
	t.MaxPathLen, t.MaxPathLenZero = r.PathLen, r.PathLen == 0
	if r.PathLen < 0 {
		t.MaxPathLen = -1
	}
	r.Constraints.apply(t)
	return nil
}

// checkPathLen refuses a CA below an issuer whose path length forbids it
// (RFC 5280 §4.2.1.9): the new CA's path length must be below the issuer's.
func (a *Authority) checkPathLen(r SignRequest) error {
	if !r.Profile.CA {
		return nil
	}
	if a.Cert.MaxPathLen == 0 && a.Cert.MaxPathLenZero {
		return errorf("%w: %s has path length 0 and may not sign another CA", ErrPathLen, a.Paths.Name)
	}
	if max := a.Cert.MaxPathLen; max > 0 && (r.PathLen < 0 || r.PathLen >= max) {
		return errorf("%w: %s allows %d CA(s) below it, so this CA's path length must be at most %d", ErrPathLen, a.Paths.Name, max, max-1)
	}
	return nil
}

// leafExtensions makes t an end-entity certificate: CA:FALSE, SANs present,
// the CN one of them, names the profile needs.
func leafExtensions(t *x509.Certificate, r SignRequest) error {
	sans, err := csr.AddCommonName(r.Subject, r.SANs)
	if err != nil {
		return errorf("%w", err)
	}
	switch r.Profile.Name {
	case ProfileServer, ProfileServerClient:
		if len(sans.DNS)+len(sans.IPs) == 0 {
			return errorf("the %s profile needs at least one DNS name or IP address SAN", r.Profile.Name)
		}
	case ProfileEmail:
		if len(sans.Emails) == 0 {
			return errorf("the email profile needs at least one email SAN")
		}
	}
	t.IsCA = false
	sans.ApplyToCert(t)
	return nil
}

// verifyIssued checks cert against the chain as a client will: signature,
// chain with name constraints and path length, each DNS name and IP, each
// EKU, at now and on the certificate's last second.
func (a *Authority) verifyIssued(cert *x509.Certificate, now time.Time) error {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(a.Root)
	for _, c := range a.Issuers() {
		inter.AddCert(c)
	}
	usages := cert.ExtKeyUsage
	if len(usages) == 0 {
		usages = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}
	// The chain (signatures, validity, key usage, path length, and the name
	// constraints of every CA above for every name) is checked once, now;
	// at the end of the certificate's life only validity can differ, so
	// every certificate of the chain is checked to be valid then (without
	// doing the signatures again). Each name is then matched against the
	// certificate, which is all that VerifyOptions.DNSName adds.
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: usages}
	chains, err := cert.Verify(opts)
	if err != nil {
		if serr := cert.CheckSignatureFrom(a.Cert); serr != nil { // the more precise reason
			return errorf("%w against CA %s: its signature does not verify with the CA's public key", ErrWouldNotVerify, a.Paths.Name)
		}
		return errorf("%w against CA %s at %s: %w", ErrWouldNotVerify, a.Paths.Name, now.UTC().Format(time.RFC3339), X509Reason(err))
	}
	end := cert.NotAfter.Add(-time.Second)
	for _, c := range chains[0] {
		if end.Before(c.NotBefore) || end.After(c.NotAfter) {
			return errorf("%w against CA %s at %s: %q is valid from %s to %s only", ErrWouldNotVerify, a.Paths.Name,
				end.UTC().Format(time.RFC3339), c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	for _, h := range verifiedHosts(cert) {
		if err := cert.VerifyHostname(h); err != nil {
			return errorf("%w against CA %s: %w", ErrWouldNotVerify, a.Paths.Name, X509Reason(err))
		}
	}
	return nil
}

// verifiedHosts are the names a client would check the certificate for:
// each DNS name (a wildcard as one name it covers) and each IP address.
func verifiedHosts(cert *x509.Certificate) []string {
	var hosts []string
	for _, d := range cert.DNSNames {
		hosts = append(hosts, strings.Replace(d, "*", "wildcard-check", 1))
	}
	for _, ip := range cert.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	return hosts
}
