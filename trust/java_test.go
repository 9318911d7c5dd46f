package trust

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywright/keywright/internal/interop"
)

// newJavaHome makes a JAVA_HOME whose bin/keytool is the real one and whose
// lib/security/cacerts is a new keystore holding one other certificate.
func newJavaHome(t *testing.T) (home string, keytool func(args ...string) string) {
	t.Helper()
	real := interop.Tool(t, "keytool")
	home = t.TempDir()
	for _, d := range []string{"bin", "lib/security"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(real, filepath.Join(home, "bin", "keytool")); err != nil {
		t.Fatal(err)
	}
	ks := filepath.Join(home, "lib", "security", "cacerts")
	keytool = func(args ...string) string {
		t.Helper()
		out, err := exec.Command(real, append([]string{"-J-Duser.language=en", "-keystore", ks, "-storepass", javaStorePass}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("keytool %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	keytool("-importcert", "-noprompt", "-alias", "someone-else", "-file", newRoot(t, "other").Path)
	return home, keytool
}

func TestJavaInstallIsIdempotentAndUninstallExact(t *testing.T) {
	home, keytool := newJavaHome(t)
	getenv := func(k string) string { return map[string]string{"JAVA_HOME": home}[k] }
	o := Options{Getenv: getenv, Kinds: []string{Java}}
	r := newRoot(t, "local-ca")
	ctx := t.Context()
	before := keytool("-list")

	res := one(t, Install(ctx, r, o), Installed)
	if res.Location != filepath.Join(home, "lib", "security", "cacerts") {
		t.Errorf("location %q", res.Location)
	}
	one(t, Install(ctx, r, o), Unchanged)
	one(t, Status(ctx, r, o), Installed)
	if list := keytool("-list"); !strings.Contains(list, r.Label()+",") {
		t.Fatalf("keytool -list does not show alias %s:\n%s", r.Label(), list)
	}
	one(t, Uninstall(ctx, r, o), Removed)
	one(t, Uninstall(ctx, r, o), Unchanged)
	one(t, Status(ctx, r, o), NotInstalled)
	if after := keytool("-list"); after != before {
		t.Fatalf("the keystore is not as before:\n%s\nwant:\n%s", after, before)
	}
}

// What Debian's ca-certificates-java added for keywright's anchor file is
// removed once the anchor is gone; another alias of the root is not.
func TestJavaDebianAliasAndForeignAlias(t *testing.T) {
	home, keytool := newJavaHome(t)
	o := Options{Getenv: func(k string) string { return map[string]string{"JAVA_HOME": home}[k] }, Kinds: []string{Java}}
	r := newRoot(t, "local-ca")
	keytool("-importcert", "-noprompt", "-alias", debianAlias(r), "-file", r.Path)
	one(t, Install(t.Context(), r, o), Unchanged)
	one(t, Uninstall(t.Context(), r, o), Removed)
	if list := keytool("-list"); strings.Contains(list, debianAlias(r)) {
		t.Fatalf("the stale Debian alias is left:\n%s", list)
	}

	keytool("-importcert", "-noprompt", "-alias", "by-hand", "-file", r.Path)
	if res := one(t, Install(t.Context(), r, o), Unchanged); !strings.Contains(res.Detail, "by-hand") {
		t.Errorf("install of a root already there: %+v", res)
	}
	one(t, Uninstall(t.Context(), r, o), Unchanged)
	if list := keytool("-list"); !strings.Contains(list, "by-hand") {
		t.Fatalf("uninstall removed what keywright did not add:\n%s", list)
	}
}

func TestJavaAbsent(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	one(t, Status(t.Context(), newRoot(t, "r"), Options{Kinds: []string{Java}}), Absent)
}
