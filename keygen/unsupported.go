package keygen

import (
	"crypto/x509/pkix"
	"encoding/asn1"
)

// Algorithms and curves that parse as keys but that keywright refuses, by
// OID, so that such a key is reported as refused (ErrUnsupported) and not as
// malformed or, once decrypted, as a wrong passphrase.
var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	refusedAlgs    = map[string]string{
		"1.2.840.10040.4.1": "DSA keys are refused",
		"1.3.101.110":       "X25519 keys cannot sign; keywright reads RSA, ECDSA and Ed25519 keys",
		"1.3.101.111":       "X448 keys cannot sign; keywright reads RSA, ECDSA and Ed25519 keys",
		"1.3.101.113":       "Ed448 keys are not supported; keywright reads RSA, ECDSA and Ed25519 keys",
	}
	supportedCurves = map[string]bool{"1.2.840.10045.3.1.7": true, "1.3.132.0.34": true, "1.3.132.0.35": true}
	curveNames      = map[string]string{"1.3.132.0.10": "secp256k1", "1.3.132.0.33": "P-224", "1.2.840.10045.3.1.1": "P-192",
		"1.3.36.3.3.2.8.1.1.7": "brainpoolP256r1", "1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1", "1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1"}
)

// refusedPKCS8 names the reason a PKCS#8 key that Go could not parse is
// refused, or returns nil when der is not recognisably such a key.
func refusedPKCS8(der []byte) error {
	var p8 struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	if _, err := asn1.Unmarshal(der, &p8); err != nil {
		return nil
	}
	if why, ok := refusedAlgs[p8.Algo.Algorithm.String()]; ok {
		return errorf("%w: %s", ErrUnsupported, why)
	}
	if p8.Algo.Algorithm.Equal(oidECPublicKey) {
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(p8.Algo.Parameters.FullBytes, &curve); err == nil {
			return refusedCurve(curve)
		}
	}
	return nil
}

// refusedSEC1 does the same for an "EC PRIVATE KEY" block.
func refusedSEC1(der []byte) error {
	var ec struct {
		Version    int
		PrivateKey []byte
		Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &ec); err != nil || len(ec.Curve) == 0 {
		return nil
	}
	return refusedCurve(ec.Curve)
}

func refusedCurve(curve asn1.ObjectIdentifier) error {
	if supportedCurves[curve.String()] {
		return nil
	}
	name := curveNames[curve.String()]
	if name == "" {
		name = curve.String()
	}
	return errorf("%w: ecdsa curve %s: only P-256, P-384 and P-521 are read", ErrUnsupported, name)
}
