package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/keywright/keywright/"

// allowed lists, for each library package, the project packages and the
// outside modules it may depend on (directly or not). The standard library
// is always allowed.
var allowed = withFault(map[string][]string{
	"store":   {"golang.org/x/sys"},
	"keygen":  {"golang.org/x/crypto", edwards},
	"csr":     {module + "keygen", "golang.org/x/crypto", edwards, "golang.org/x/net", "golang.org/x/text"},
	"sshkeys": {module + "keygen", module + "store", "golang.org/x/crypto", edwards, "golang.org/x/sys"},
	"sshkeys/remote": {module + "sshkeys", module + "keygen", module + "store", "golang.org/x/crypto", edwards, "golang.org/x/sys",
		"github.com/kevinburke/ssh_config"},
	"ca": append([]string{module + "keygen", module + "csr", module + "store", "golang.org/x/crypto", edwards,
		"golang.org/x/net", "golang.org/x/text", "golang.org/x/sys", "software.sslmate.com/src/go-pkcs12"},
		sqlite...),
	// trust: smallstep/truststore does the macOS and Windows stores (and
	// brings howett.net/plist on macOS).
	"trust": {module + "store", "golang.org/x/sys", "github.com/smallstep/truststore", "howett.net/plist"},
})

// edwards makes the first Ed25519 keys of a process without the standard
// library's base-point table (keygen/ed25519.go).
const edwards = "filippo.io/edwards25519"

// withFault lets every library use internal/fault, which makes the shape
// of every error message (README "Output and exit codes", "Error messages").
func withFault(m map[string][]string) map[string][]string {
	for pkg := range m {
		m[pkg] = append(m[pkg], module+"internal/fault")
	}
	return m
}

// sqlite is the record database (README "The record"): modernc.org/sqlite, a
// pure-Go SQLite, and what it brings with it.
var sqlite = []string{"modernc.org/sqlite", "modernc.org/libc", "modernc.org/mathutil", "modernc.org/memory",
	"github.com/dustin/go-humanize", "github.com/google/uuid", "github.com/remyoudompheng/bigfft",
	"github.com/ncruces/go-strftime", "github.com/mattn/go-isatty"}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", module+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestLibraryDependencies(t *testing.T) {
	for pkg, ok := range allowed {
		t.Run(pkg, func(t *testing.T) {
			for _, d := range deps(t, pkg) {
				if d == module+pkg || strings.HasPrefix(d, module+pkg+"/") {
					continue
				}
				if !allowedDep(d, ok) {
					t.Errorf("%s depends on %s, which README's Development section does not allow", pkg, d)
				}
			}
		})
	}
}

func allowedDep(dep string, ok []string) bool {
	if strings.HasPrefix(dep, "vendor/") || strings.HasPrefix(dep, "internal/") {
		return true // the standard library's own vendored packages
	}
	for _, prefix := range ok {
		if dep == prefix || strings.HasPrefix(dep, prefix+"/") {
			return true
		}
	}
	return false
}

// The test itself must be able to fail: the CLI does depend on kong.
func TestCheckerSeesForbiddenEdge(t *testing.T) {
	found := false
	for _, d := range deps(t, "cmd/keywright") {
		if d == "github.com/alecthomas/kong" {
			found = true
		}
	}
	if !found || allowedDep("github.com/alecthomas/kong", allowed["ca"]) {
		t.Fatal("the dependency check cannot see kong in the CLI, or would allow it in a library")
	}
}

// zlint is a test-only dependency: the shipped binary must not link it.
func TestBinaryDoesNotLinkZlint(t *testing.T) {
	for _, d := range deps(t, "cmd/keywright") {
		if strings.HasPrefix(d, "github.com/zmap/") || d == module+"internal/zlinttest" {
			t.Errorf("the keywright binary depends on %s", d)
		}
	}
}
