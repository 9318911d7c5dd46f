// Package zlinttest runs zlint (github.com/zmap/zlint/v3) over certificates
// for the tests of csr and ca. Only tests import it, so the keywright binary
// never links zlint.
package zlinttest

import (
	"testing"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// rfcSources are the lint sources from which no warning or error is ever
// tolerated: the RFCs a private CA must follow as much as a public one.
var rfcSources = map[lint.LintSource]bool{
	lint.RFC5280: true, lint.RFC3279: true, lint.RFC5480: true, lint.RFC8813: true, lint.RFC5891: true,
}

// Finding is one lint that answered warn or worse.
type Finding struct {
	Lint    string
	Status  lint.LintStatus
	Source  lint.LintSource
	RFC     bool // from an RFC source: never allowed
	Details string
}

// Findings lints a DER certificate with every lint except those of the
// ETSI, EV, S/MIME and code-signing rule sets (which do not apply to a
// private TLS CA), and returns the warnings and errors.
func Findings(t testing.TB, der []byte) []Finding {
	t.Helper()
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{
		ExcludeSources: lint.SourceList{lint.EtsiEsi, lint.CABFEVGuidelines, lint.CABFSMIMEBaselineRequirements, lint.CABFCSBaselineRequirements},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := zx509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("zcrypto cannot parse the certificate: %v", err)
	}
	var out []Finding
	for name, res := range zlint.LintCertificateEx(c, reg).Results {
		if res.Status < lint.Warn {
			continue
		}
		f := Finding{Lint: name, Status: res.Status, Details: res.Details}
		if meta := reg.ByName(name); meta != nil {
			f.Source, f.RFC = meta.Source, rfcSources[meta.Source]
		}
		out = append(out, f)
	}
	return out
}
