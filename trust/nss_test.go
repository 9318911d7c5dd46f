package trust

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywright/keywright/internal/interop"
)

// newNSSHome makes HOME/.pki/nssdb, an empty NSS database as Chrome makes
// it (with a password when pw is not empty), and returns HOME.
func newNSSHome(t *testing.T, certutil, pw string) string {
	t.Helper()
	home := t.TempDir()
	db := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"-N", "-d", "sql:" + db, "--empty-password"}
	if pw != "" {
		pwFile := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = []string{"-N", "-d", "sql:" + db, "-f", pwFile}
	}
	if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v\n%s", err, out)
	}
	return home
}

func certutilList(t *testing.T, certutil, home string) string {
	t.Helper()
	out, err := exec.Command(certutil, "-L", "-d", "sql:"+filepath.Join(home, ".pki", "nssdb")).CombinedOutput()
	if err != nil {
		t.Fatalf("certutil -L: %v\n%s", err, out)
	}
	return string(out)
}

func one(t *testing.T, res []Result, want State) Result {
	t.Helper()
	if len(res) != 1 || res[0].State != want {
		t.Fatalf("results %+v, want one %s", res, want)
	}
	return res[0]
}

// Install, install again, status, uninstall, uninstall again: each store
// changes once, and uninstall leaves the database as install found it.
func TestNSSInstallIsIdempotentAndUninstallExact(t *testing.T) {
	certutil := interop.Tool(t, "certutil")
	home := newNSSHome(t, certutil, "")
	o := Options{Home: home, Kinds: []string{NSS}}
	r, other := newRoot(t, "local-ca"), newRoot(t, "local-ca")
	ctx := t.Context()

	res := one(t, Install(ctx, r, o), Installed)
	if res.Location != "sql:"+filepath.Join(home, ".pki", "nssdb") {
		t.Errorf("location %q", res.Location)
	}
	one(t, Install(ctx, r, o), Unchanged)
	one(t, Status(ctx, r, o), Installed)
	one(t, Status(ctx, other, o), NotInstalled)
	one(t, Install(ctx, other, o), Installed) // another store's local-ca: its own nickname
	list := certutilList(t, certutil, home)
	for _, x := range []Root{r, other} {
		if !strings.Contains(list, x.Nickname()+" ") || !strings.Contains(list, "C,,") {
			t.Fatalf("certutil -L does not list %q trusted:\n%s", x.Nickname(), list)
		}
	}

	one(t, Uninstall(ctx, r, o), Removed)
	one(t, Uninstall(ctx, r, o), Unchanged)
	one(t, Status(ctx, r, o), NotInstalled)
	one(t, Status(ctx, other, o), Installed) // the other root is left alone
	one(t, Uninstall(ctx, other, o), Removed)
	if list := certutilList(t, certutil, home); strings.Contains(list, "keywright") {
		t.Fatalf("certutil -L still lists a keywright root:\n%s", list)
	}
}

// A database with a password (Firefox's primary password): certutil adds
// the certificate untrusted and fails; keywright takes it back and says
// the command that asks for the password.
func TestNSSPasswordDatabaseLeftAsItWas(t *testing.T) {
	certutil := interop.Tool(t, "certutil")
	home := newNSSHome(t, certutil, "secret")
	r := newRoot(t, "local-ca")
	res := one(t, Install(t.Context(), r, Options{Home: home, Kinds: []string{NSS}}), Failed)
	if !strings.Contains(res.Detail, "password") || !strings.Contains(res.Fix, "-i "+r.Path) {
		t.Errorf("result %+v: want the password named and a certutil -A command", res)
	}
	if list := certutilList(t, certutil, home); strings.Contains(list, "keywright") {
		t.Fatalf("a failed install left the certificate:\n%s", list)
	}
}

// Another certificate under keywright's nickname is never replaced or
// removed.
func TestNSSForeignNicknameLeftAlone(t *testing.T) {
	certutil := interop.Tool(t, "certutil")
	home := newNSSHome(t, certutil, "")
	r, impostor := newRoot(t, "local-ca"), newRoot(t, "x")
	db := "sql:" + filepath.Join(home, ".pki", "nssdb")
	if out, err := exec.Command(certutil, "-A", "-d", db, "-n", r.Nickname(), "-t", "C,,", "-i", impostor.Path).CombinedOutput(); err != nil {
		t.Fatalf("certutil -A: %v\n%s", err, out)
	}
	o := Options{Home: home, Kinds: []string{NSS}}
	one(t, Status(t.Context(), r, o), NotInstalled)
	one(t, Install(t.Context(), r, o), Failed)
	one(t, Uninstall(t.Context(), r, o), Failed)
	if list := certutilList(t, certutil, home); !strings.Contains(list, r.Nickname()) {
		t.Fatalf("the other certificate was removed:\n%s", list)
	}
}

// Without certutil, a store that exists is reported with the package that
// brings it, and nothing is done.
func TestNSSWithoutCertutil(t *testing.T) {
	certutil := interop.Tool(t, "certutil")
	home := newNSSHome(t, certutil, "")
	t.Setenv("PATH", t.TempDir())
	o := Options{Home: home, Kinds: []string{NSS}}
	r := newRoot(t, "local-ca")
	for _, res := range []Result{one(t, Status(t.Context(), r, o), Unknown), one(t, Install(t.Context(), r, o), Failed)} {
		if !strings.Contains(res.Detail, "certutil is not installed") || !strings.Contains(res.Fix, "libnss3-tools") {
			t.Errorf("result %+v: want certutil named and libnss3-tools in the fix", res)
		}
	}
}
