package ca

import (
	"crypto/x509"
	"errors"
	"strings"

	"github.com/keywright/keywright/internal/fault"
)

// X509Reason is what crypto/x509 found wrong with a chain or a host name,
// in keywright's words (its own messages begin "x509:" and quote Go
// values). The result wraps err, so errors.As still finds x509's error.
func X509Reason(err error) error {
	if err == nil {
		return nil
	}
	return fault.Reason("ca", x509Text(err), err)
}

func x509Text(err error) string {
	var (
		host     x509.HostnameError
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		insecure x509.InsecureAlgorithmError
		roots    x509.SystemRootsError
	)
	switch {
	case errors.As(err, &host):
		return hostText(host)
	case errors.As(err, &unknown):
		return "signed by an unknown authority (no CA the check trusts signed it, or its signature does not verify)"
	case errors.As(err, &invalid):
		return invalidText(invalid)
	case errors.As(err, &insecure):
		return "signed with " + x509.SignatureAlgorithm(insecure).String() + ", which is not accepted as secure"
	case errors.As(err, &roots):
		return "no trusted roots to check against"
	}
	return "the chain does not verify"
}

func hostText(e x509.HostnameError) string {
	var names []string
	if e.Certificate != nil {
		names = append(names, e.Certificate.DNSNames...)
		for _, ip := range e.Certificate.IPAddresses {
			names = append(names, ip.String())
		}
	}
	if len(names) == 0 {
		return "the certificate names no host (no DNS or IP SAN), so it is not valid for " + e.Host
	}
	return "the certificate is valid for " + strings.Join(names, ", ") + ", not " + e.Host
}

var invalidReasons = map[x509.InvalidReason]string{
	x509.NotAuthorizedToSign:           "signed by a certificate that is not a CA",
	x509.Expired:                       "outside its validity",
	x509.CANotAuthorizedForThisName:    "a name outside the name constraints of a CA above it",
	x509.TooManyIntermediates:          "more CAs below one than its path length allows",
	x509.IncompatibleUsage:             "its extended key usage does not allow this use (or a CA above it does not)",
	x509.NameMismatch:                  "its issuer name is not its issuer's subject",
	x509.NameConstraintsWithoutSANs:    "a CA above it has name constraints, and it has no SANs",
	x509.UnconstrainedName:             "it has a name type a CA above it cannot constrain",
	x509.TooManyConstraints:            "its name constraints are too many to check",
	x509.CANotAuthorizedForExtKeyUsage: "a CA above it may not issue for this extended key usage",
	x509.NoValidChains:                 "no chain to a trusted root meets every rule",
}

func invalidText(e x509.CertificateInvalidError) string {
	text, ok := invalidReasons[e.Reason]
	if !ok {
		text = "it breaks a rule of X.509 chains"
	}
	if e.Cert != nil && e.Cert.Subject.CommonName != "" {
		text = "certificate " + `"` + e.Cert.Subject.CommonName + `": ` + text
	}
	if e.Detail != "" {
		text += " (" + e.Detail + ")"
	}
	return text
}
