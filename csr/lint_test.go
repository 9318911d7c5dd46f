package csr

import (
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"

	"github.com/keywright/keywright/internal/zlinttest"
)

// TestSelfSignLint runs zlint over self-signed certificates of every key
// type: no warning or error from an RFC source (RFC 5280, 3279, 5480, 8813,
// 5891) may fire, nor the CA/B lints on key usage, EKU, SAN and CN that the
// leaf profile of README "Certificate authority" is about.
func TestSelfSignLint(t *testing.T) {
	must := map[string]bool{
		"e_ecdsa_allowed_ku": true, "e_cabf_ecc_allowed_key_usages": true, "e_rsa_allowed_ku_ee": true,
		"e_sub_cert_eku_missing": true, "e_ext_san_missing": true, "e_subject_common_name_not_exactly_from_san": true,
		"e_sub_cert_not_is_ca": true, "e_serial_number_not_positive": true, "e_serial_number_longer_than_20_octets": true,
		"e_server_cert_valid_time_longer_than_398_days": true, "e_sub_cert_key_usage_cert_sign_bit_set": true,
		"e_dnsname_wildcard_only_in_left_label": true, "e_dnsname_bad_character_in_label": true,
	}
	for name, key := range testKeys(t) {
		t.Run(name, func(t *testing.T) {
			p, err := SelfSign(SelfSignRequest{Subject: pkix.Name{CommonName: "www.example.com"},
				SANs: mustSANs(t, "*.example.com", "10.1.2.3", "2001:db8::1"), Key: key})
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode(p)
			for _, f := range zlinttest.Findings(t, block.Bytes) {
				if must[f.Lint] || f.RFC {
					t.Errorf("%s: %s %s", f.Lint, f.Status, f.Details)
				} else {
					t.Logf("allowed for a self-signed private certificate: %s (%s)", f.Lint, f.Status)
				}
			}
		})
	}
}
