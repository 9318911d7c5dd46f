package ca

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"sort"
	"strings"
)

// Profile is what a certificate is for: its extended key usages and whether
// it is a CA. The key usage bits follow from the profile and the key type.
type Profile struct {
	Name string
	EKU  []x509.ExtKeyUsage
	CA   bool
	// encipher: an RSA key may also encrypt session keys (TLS RSA key
	// exchange, S/MIME); never set for ECDSA or Ed25519 (RFC 8813 §3).
	encipher bool
}

// Profile names (the --profile values).
const (
	ProfileServer       = "server"
	ProfileClient       = "client"
	ProfileServerClient = "server-client"
	ProfileCodeSigning  = "code-signing"
	ProfileEmail        = "email"
	ProfileCA           = "ca"
	// ProfileRoot is recorded for a self-signed root; it cannot be asked for.
	ProfileRoot = "root"
)

var profiles = map[string]Profile{
	ProfileServer:       {Name: ProfileServer, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, encipher: true},
	ProfileClient:       {Name: ProfileClient, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	ProfileServerClient: {Name: ProfileServerClient, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, encipher: true},
	ProfileCodeSigning:  {Name: ProfileCodeSigning, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}},
	ProfileEmail:        {Name: ProfileEmail, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, encipher: true},
	ProfileCA:           {Name: ProfileCA, CA: true},
}

// ProfileNames lists the profiles that can be asked for, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ProfileByName returns the named profile; "" is server.
func ProfileByName(name string) (Profile, error) {
	if name == "" {
		name = ProfileServer
	}
	p, ok := profiles[strings.ToLower(name)]
	if !ok {
		return Profile{}, errorf("unknown profile %q: use one of %s", name, strings.Join(ProfileNames(), ", "))
	}
	return p, nil
}

// KeyUsage is the key usage of a certificate of this profile for pub:
// digitalSignature always; keyEncipherment only for RSA keys in profiles that
// encrypt; keyCertSign and cRLSign for CAs.
func (p Profile) KeyUsage(pub crypto.PublicKey) x509.KeyUsage {
	if p.CA {
		return caKeyUsage
	}
	ku := x509.KeyUsageDigitalSignature
	if _, isRSA := pub.(*rsa.PublicKey); isRSA && p.encipher {
		ku |= x509.KeyUsageKeyEncipherment
	}
	return ku
}

// caKeyUsage is every CA certificate's key usage (README "Certificate authority").
const caKeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
