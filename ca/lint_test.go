package ca

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/keywright/keywright/internal/zlinttest"
	"github.com/keywright/keywright/keygen"
)

func readAllowList(t *testing.T) map[string]bool {
	f, err := os.Open("testdata/zlint-allow.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	allow := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(line, "#") {
			t.Fatalf("allow list: %q has no reason", line)
		}
		allow[strings.Fields(line)[0]] = true
	}
	return allow
}

// TestIssuedCertsLint runs zlint over a root, an intermediate with name
// constraints and every leaf profile for every key type.
func TestIssuedCertsLint(t *testing.T) {
	allow := readAllowList(t)
	st := newStore(t)
	root := testCA(t, st, "root", nil, func(r *RootRequest) { r.Now = testNowReal() })
	inter := testCA(t, st, "int", root, func(r *RootRequest) {
		r.Now = testNowReal()
		r.Constraints, _ = ParseConstraints(ConstraintValues{PermitDNS: []string{"example.test"}, ExcludeDNS: []string{"example.org"},
			PermitIP: []string{"10.0.0.0/8", "fd00::/8"}, PermitEmail: []string{"example.test"}})
	})
	// DNS constraints alone: URI and email constraints follow them (both
	// RFC 5280 forms of each domain).
	derived := testCA(t, st, "derived", root, func(r *RootRequest) {
		r.Now = testNowReal()
		r.Constraints, _ = ParseConstraints(ConstraintValues{PermitDNS: []string{"example.test"}, ExcludeDNS: []string{"example.org"}})
	})
	if len(derived.Cert.PermittedURIDomains) != 2 || len(derived.Cert.PermittedEmailAddresses) != 2 || len(derived.Cert.ExcludedURIDomains) != 2 {
		t.Fatalf("derived constraints: URI %v/%v, email %v", derived.Cert.PermittedURIDomains, derived.Cert.ExcludedURIDomains, derived.Cert.PermittedEmailAddresses)
	}
	defer func() { t.Logf("allowed lints that fired: %v", firedAllowed) }()
	lintCert(t, allow, "root", root.Cert.Raw)
	lintCert(t, allow, "intermediate", inter.Cert.Raw)
	lintCert(t, allow, "intermediate-derived", derived.Cert.Raw)
	for _, spec := range []keygen.Spec{{Type: "ecdsa"}, {Type: "ecdsa", Curve: "p384"}, {Type: "rsa", Bits: 2048}, {Type: "ed25519"}} {
		key := genKey(t, spec)
		for _, pname := range []string{ProfileServer, ProfileClient, ProfileServerClient, ProfileCodeSigning, ProfileEmail} {
			r := leafReq(t, "www.example.test", lintSANs[pname]...)
			r.PublicKey, r.Profile, r.Now = key.Public(), profile(t, pname), testNowReal()
			for _, issuer := range []*Authority{root, inter, derived} {
				s, err := issuer.Sign(r)
				if err != nil {
					t.Fatal(err)
				}
				lintCert(t, allow, spec.String()+"/"+pname+"/"+issuer.Paths.Name, s.Cert.Raw)
			}
		}
	}
}

// lintSANs are names each profile is used with.
var lintSANs = map[string][]string{
	ProfileServer:       {"www.example.test", "api.example.test", "*.example.test", "10.1.2.3", "fd00::1"},
	ProfileServerClient: {"www.example.test", "10.1.2.3"},
	ProfileClient:       {"www.example.test", "ops@example.test"},
	ProfileCodeSigning:  {"www.example.test"},
	ProfileEmail:        {"www.example.test", "ops@example.test"},
}

var firedAllowed = map[string]int{}

func lintCert(t *testing.T, allow map[string]bool, name string, der []byte) {
	t.Run(name, func(t *testing.T) {
		for _, f := range zlinttest.Findings(t, der) {
			if f.RFC || !allow[f.Lint] {
				t.Errorf("%s: %s (%v) %s", f.Lint, f.Status, f.Source, f.Details)
			}
			firedAllowed[f.Lint]++
		}
	})
}
