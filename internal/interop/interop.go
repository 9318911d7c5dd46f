// Package interop lets tests find the real tools keywright must agree with
// (openssl, ssh-keygen, sshd, curl). Without KEYWRIGHT_REQUIRE_INTEROP a
// missing tool skips the test with a clear message, so `go test ./...` passes
// on a laptop; with KEYWRIGHT_REQUIRE_INTEROP=1 (as CI sets it) it fails.
package interop

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing tools must fail tests.
func Required() bool { return os.Getenv("KEYWRIGHT_REQUIRE_INTEROP") == "1" }

// Tool returns the absolute path of the named program, or skips (or fails,
// when Required) the test.
func Tool(t testing.TB, name string) string {
	t.Helper()
	if path := Find(name); path != "" {
		return path
	}
	if Required() {
		t.Fatalf("interop: %s not found and KEYWRIGHT_REQUIRE_INTEROP=1", name)
	}
	t.Skipf("interop: %s not found; skipping (set KEYWRIGHT_REQUIRE_INTEROP=1 to make this a failure)", name)
	return ""
}

// Find returns the absolute path of the named program, or "".
func Find(name string) string {
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	// sshd lives in /usr/sbin, often outside a user's PATH.
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		if p := dir + "/" + name; isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
