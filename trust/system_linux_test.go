package trust

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// testLayout is a system store in a temporary directory whose update
// command builds the bundle from the anchors with sh, as
// update-ca-certificates does (the real one is TestCATrustSystemRoot's, in
// cmd/keywright, which runs as root).
func testLayout(t *testing.T, update ...string) *linuxSystem {
	t.Helper()
	dir := t.TempDir()
	anchors, bundle := filepath.Join(dir, "anchors"), filepath.Join(dir, "bundle.pem")
	if err := os.Mkdir(anchors, 0o755); err != nil {
		t.Fatal(err)
	}
	build := []string{"sh", "-c", `cat "$0"/*.crt > "$1" 2>/dev/null || : > "$1"`, anchors, bundle}
	if update == nil {
		update = build
	}
	if err := os.WriteFile(bundle, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return &linuxSystem{l: layout{dir: anchors, ext: ".crt", update: update, removed: build, bundle: bundle, pkg: "ca-certificates"}}
}

func names(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range entries {
		n = append(n, e.Name())
	}
	return strings.Join(n, " ")
}

func TestLinuxSystemInstallUninstall(t *testing.T) {
	old := syscall.Umask(0o077) // the anchor is 0644 whatever the umask
	defer syscall.Umask(old)
	s, r, ctx := testLayout(t), newRoot(t, "local-ca"), t.Context()

	if res := s.install(ctx, r); res.State != Installed || res.Location != filepath.Join(s.l.dir, r.Label()+".crt") {
		t.Fatalf("install: %+v", res)
	}
	fi, err := os.Stat(s.file(r))
	if err != nil || fi.Mode().Perm() != anchorMode {
		t.Fatalf("anchor: %v, mode %v, want %v", err, fi.Mode().Perm(), anchorMode)
	}
	if got := names(t, s.l.dir); got != r.Label()+".crt" {
		t.Errorf("anchors directory holds %q, want the anchor alone (no temporary file)", got)
	}
	bundle, _ := os.ReadFile(s.l.bundle)
	if res := s.install(ctx, r); res.State != Unchanged {
		t.Errorf("second install: %+v", res)
	}
	if again, _ := os.ReadFile(s.l.bundle); !bytes.Equal(again, bundle) || !r.holds(again) {
		t.Errorf("the bundle changed on a second install, or lacks the root")
	}
	if res := s.status(ctx, r); res.State != Installed {
		t.Errorf("status: %+v", res)
	}
	if res := s.uninstall(ctx, r); res.State != Removed {
		t.Fatalf("uninstall: %+v", res)
	}
	if res := s.uninstall(ctx, r); res.State != Unchanged {
		t.Errorf("second uninstall: %+v", res)
	}
	if got, b := names(t, s.l.dir), mustRead(t, s.l.bundle); got != "" || len(b) != 0 {
		t.Errorf("after uninstall: anchors %q, bundle %d bytes; want both empty", got, len(b))
	}
	if res := s.status(ctx, r); res.State != NotInstalled {
		t.Errorf("status after uninstall: %+v", res)
	}
}

// An update command that fails takes the anchor back out: nothing is half
// installed.
func TestLinuxSystemFailedUpdateLeavesNothing(t *testing.T) {
	s, r := testLayout(t, "false"), newRoot(t, "local-ca")
	res := s.install(t.Context(), r)
	if res.State != Failed || !strings.Contains(res.Detail, "false failed") {
		t.Fatalf("install with a failing update: %+v", res)
	}
	if got := names(t, s.l.dir); got != "" {
		t.Fatalf("anchors directory holds %q after a failed install", got)
	}
}

// An anchor of keywright's name that holds another certificate is not
// removed.
func TestLinuxSystemForeignFileLeftAlone(t *testing.T) {
	s, r, other := testLayout(t), newRoot(t, "local-ca"), newRoot(t, "other")
	if err := os.WriteFile(s.file(r), other.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := s.uninstall(t.Context(), r); res.State != Failed {
		t.Fatalf("uninstall: %+v", res)
	}
	if _, err := os.Stat(s.file(r)); err != nil {
		t.Fatal("the other certificate's file was removed")
	}
}

// Not root: nothing is written, and the result says the commands to run
// with sudo.
func TestLinuxSystemNeedsRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root: the store is writable (TestCATrustSystemRoot covers root)")
	}
	s, r := testLayout(t), newRoot(t, "local-ca")
	if err := os.Chmod(s.l.dir, 0o555); err != nil {
		t.Fatal(err)
	}
	res := s.install(t.Context(), r)
	want := "sudo install -m 644 " + r.Path + " " + s.file(r) + " && sudo sh -c"
	if res.State != Failed || !strings.HasPrefix(res.Fix, want) {
		t.Fatalf("install as a user: %+v, want a fix starting %q", res, want)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
