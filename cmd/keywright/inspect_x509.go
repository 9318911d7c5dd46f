package main

// inspect for X.509: certificates, certificate requests and PEM bundles of
// them (registered in pemDescribers), and the same as DER.

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"time"

	"github.com/keywright/keywright/csr"
)

func describeCertBlock(e *Env, _ *InspectCmd, file string, block *pem.Block) (*report, error) {
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, errorf("%s: not a certificate: its DER does not parse as an X.509 certificate", file)
	}
	return describeCert(e, file, cert)
}

func describeCSRBlock(_ *Env, _ *InspectCmd, file string, block *pem.Block) (*report, error) {
	// ParseCSR checks the signature: a changed request is refused.
	r, err := csr.ParseCSR(block.Bytes)
	if err != nil {
		return nil, errorf("%s: %w", file, err)
	}
	return describeCSR(file, r)
}

// describeDER reports a DER certificate or request; nil when data is
// neither.
func describeDER(e *Env, file string, data []byte) ([]*report, error) {
	if len(data) == 0 || data[0] != 0x30 {
		return nil, nil
	}
	if cert, err := x509.ParseCertificate(data); err == nil {
		r, err := describeCert(e, file, cert)
		return []*report{r}, err
	}
	if _, err := x509.ParseCertificateRequest(data); err == nil {
		r, err := describeCSRBlock(e, nil, file, &pem.Block{Bytes: data})
		return []*report{r}, err
	}
	return nil, nil
}

func describeCert(e *Env, file string, c *x509.Certificate) (*report, error) {
	r := (&report{}).add("file", file).add("kind", "certificate")
	addCertSummary(r, c)
	r.add("self_signed", c.Subject.String() == c.Issuer.String() &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil)
	r.add("status", validityStatus(e.Now(), c))
	if now := e.Now(); now.Before(c.NotAfter) && !now.Before(c.NotBefore) {
		r.add("days_left", int(c.NotAfter.Sub(now).Hours()/24))
	}
	if _, err := addPublicKey(r, c.PublicKey); err != nil {
		r.add("key_type", fmt.Sprint(c.PublicKeyAlgorithm))
	}
	r.add("signature_algorithm", c.SignatureAlgorithm.String())
	r.add("extensions", certExtensions(c))
	sum := sha256.Sum256(c.Raw)
	return r.add("sha256_fingerprint", hex.EncodeToString(sum[:])), nil
}

// addCertSummary adds what a script needs to know of a certificate, under
// the names inspect uses: subject, SANs, issuer, serial, validity.
func addCertSummary(r *report, c *x509.Certificate) *report {
	r.add("subject", c.Subject.String()).add("sans", sanReport(csr.SANsOf(c))).add("issuer", c.Issuer.String())
	r.add("serial", hex.EncodeToString(c.SerialNumber.Bytes()))
	return r.add("not_before", c.NotBefore.UTC().Format(time.RFC3339)).add("not_after", c.NotAfter.UTC().Format(time.RFC3339))
}

func describeCSR(file string, c *x509.CertificateRequest) (*report, error) {
	r := (&report{}).add("file", file).add("kind", "certificate request")
	r.add("subject", c.Subject.String()).add("sans", sanReport(csr.SANsOfCSR(c)))
	if _, err := addPublicKey(r, c.PublicKey); err != nil {
		return nil, errorf("%s: %w", file, err)
	}
	r.add("signature_algorithm", c.SignatureAlgorithm.String()).add("signature_verified", true)
	var requested []string
	for _, ext := range c.Extensions {
		requested = append(requested, extensionName(ext.Id))
	}
	return r.add("requested_extensions", requested), nil
}

// sanReport lists the names by type; nil when there are none.
func sanReport(s csr.SANs) any {
	if s.Empty() {
		return nil
	}
	var ips, uris []string
	for _, ip := range s.IPs {
		ips = append(ips, ip.String())
	}
	for _, u := range s.URIs {
		uris = append(uris, u.String())
	}
	return (&report{}).add("dns", s.DNS).add("ip", ips).add("email", s.Emails).add("uri", uris)
}

func validityStatus(now time.Time, c *x509.Certificate) string {
	switch {
	case now.Before(c.NotBefore):
		return "not yet valid"
	case now.After(c.NotAfter):
		return "expired"
	}
	return "valid"
}

func certExtensions(c *x509.Certificate) *report {
	x := &report{}
	crit := map[string]bool{}
	for _, ext := range c.Extensions {
		crit[ext.Id.String()] = ext.Critical
	}
	if c.BasicConstraintsValid {
		bc := (&report{}).add("ca", c.IsCA).add("critical", crit["2.5.29.19"])
		if c.IsCA && (c.MaxPathLen > 0 || c.MaxPathLenZero) {
			bc.add("path_len", c.MaxPathLen)
		}
		x.add("basic_constraints", bc)
	}
	if c.KeyUsage != 0 {
		x.add("key_usage", (&report{}).add("usages", keyUsageNames(c.KeyUsage)).add("critical", crit["2.5.29.15"]))
	}
	var eku []string
	for _, u := range c.ExtKeyUsage {
		eku = append(eku, extKeyUsageName(u))
	}
	for _, oid := range c.UnknownExtKeyUsage {
		eku = append(eku, oid.String())
	}
	x.add("ext_key_usage", eku)
	if len(c.SubjectKeyId) > 0 {
		x.add("subject_key_id", hex.EncodeToString(c.SubjectKeyId))
	}
	if len(c.AuthorityKeyId) > 0 {
		x.add("authority_key_id", hex.EncodeToString(c.AuthorityKeyId))
	}
	x.add("name_constraints", nameConstraints(c, crit["2.5.29.30"]))
	var other []string
	for _, ext := range c.Extensions {
		if name := extensionName(ext.Id); !knownExtension[name] {
			other = append(other, name)
		}
	}
	return x.add("other", other)
}

func nameConstraints(c *x509.Certificate, critical bool) any {
	nets := func(n []*net.IPNet) []string {
		var out []string
		for _, x := range n {
			out = append(out, x.String())
		}
		return out
	}
	nc := (&report{}).add("permitted_dns", c.PermittedDNSDomains).add("excluded_dns", c.ExcludedDNSDomains).
		add("permitted_ip", nets(c.PermittedIPRanges)).add("excluded_ip", nets(c.ExcludedIPRanges)).
		add("permitted_email", c.PermittedEmailAddresses).add("excluded_email", c.ExcludedEmailAddresses).
		add("permitted_uri", c.PermittedURIDomains).add("excluded_uri", c.ExcludedURIDomains)
	if len(nc.fields) == 0 {
		return nil
	}
	return nc.add("critical", critical)
}

func keyUsageNames(ku x509.KeyUsage) []string {
	names := []string{"digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
		"key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"}
	var out []string
	for i, n := range names {
		if ku&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func extKeyUsageName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageAny:
		return "any"
	case x509.ExtKeyUsageServerAuth:
		return "server_auth"
	case x509.ExtKeyUsageClientAuth:
		return "client_auth"
	case x509.ExtKeyUsageCodeSigning:
		return "code_signing"
	case x509.ExtKeyUsageEmailProtection:
		return "email_protection"
	case x509.ExtKeyUsageTimeStamping:
		return "time_stamping"
	case x509.ExtKeyUsageOCSPSigning:
		return "ocsp_signing"
	}
	return fmt.Sprintf("eku_%d", u)
}

var extensionNames = map[string]string{
	"2.5.29.14": "subject_key_id", "2.5.29.15": "key_usage", "2.5.29.17": "subject_alt_name",
	"2.5.29.19": "basic_constraints", "2.5.29.30": "name_constraints", "2.5.29.31": "crl_distribution_points",
	"2.5.29.32": "certificate_policies", "2.5.29.35": "authority_key_id", "2.5.29.37": "ext_key_usage",
	"1.3.6.1.5.5.7.1.1": "authority_info_access",
}

// knownExtension: the extensions certExtensions reports by name.
var knownExtension = map[string]bool{
	"subject_key_id": true, "key_usage": true, "subject_alt_name": true, "basic_constraints": true,
	"name_constraints": true, "authority_key_id": true, "ext_key_usage": true,
}

func extensionName(oid asn1.ObjectIdentifier) string {
	if n, ok := extensionNames[oid.String()]; ok {
		return n
	}
	return oid.String()
}
