package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keywright/keywright/internal/interop"
)

// Debian's system store, which TestCATrustSystemRoot changes and restores.
const (
	debianAnchors = "/usr/local/share/ca-certificates"
	debianBundle  = "/etc/ssl/certs/ca-certificates.crt"
	debianCerts   = "/etc/ssl/certs"
	debianJava    = "/etc/ssl/certs/java/cacerts"
)

// TestCATrustSystemRoot installs local-ca into this machine's system store
// and a fresh NSS database (in a temporary HOME), checks that curl and
// openssl s_client with their default paths accept a crypto/tls server on
// loopback serving a chain local-ca signed, that certutil lists the root
// and status says so; then uninstalls, and both refuse again. It needs root
// on a Debian-family Linux (skipped otherwise; a failure under
// KEYWRIGHT_REQUIRE_INTEROP=1), and leaves the trust store as it found it,
// even when it fails.
func TestCATrustSystemRoot(t *testing.T) {
	requireRootDebian(t)
	curl, openssl, certutil := interop.Tool(t, "curl"), interop.Tool(t, "openssl"), interop.Tool(t, "certutil")
	interop.Tool(t, "update-ca-certificates")
	lockMachineTrust(t)
	restoreTrustStore(t)

	dir := t.TempDir()
	home, st := filepath.Join(dir, "home"), filepath.Join(dir, "pki")
	nssdb := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(nssdb, 0o700); err != nil {
		t.Fatal(err)
	}
	tool(t, certutil, "-N", "--empty-password", "-d", "sql:"+nssdb)
	env := map[string]string{"HOME": home}
	kw := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runInProcess(t, "", env, append([]string{"--store", st}, args...)...)
		if code != want {
			t.Fatalf("keywright %v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
		}
		return out
	}
	kw(0, "issue", "web", "--san", "127.0.0.1", "--san", "localhost")
	addr := serveHTTPS(t, filepath.Join(st, "web.pem"), filepath.Join(st, "web.key"))
	clients := func(trusted bool) {
		t.Helper()
		checkCurl(t, curl, addr, trusted)
		checkSClient(t, openssl, addr, trusted)
	}
	clients(false)

	out := kw(0, "ca", "trust", "install")
	for _, want := range []string{"system " + debianAnchors + "/keywright-local-ca-", ".crt: installed", "nss sql:" + nssdb + ": installed"} {
		if !strings.Contains(out, want) {
			t.Errorf("install says\n%s\nwant %q", out, want)
		}
	}
	clients(true)
	if list := tool(t, certutil, "-L", "-d", "sql:"+nssdb); !strings.Contains(list, "keywright local-ca ") {
		t.Errorf("certutil -L does not list the root:\n%s", list)
	}
	bundle := readBytes(t, debianBundle)
	if out := kw(0, "ca", "trust", "install"); strings.Count(out, ": unchanged") != strings.Count(out, "\n") {
		t.Errorf("a second install changed something:\n%s", out)
	}
	if !bytes.Equal(readBytes(t, debianBundle), bundle) {
		t.Error("a second install changed " + debianBundle)
	}
	checkTrustStatus(t, kw(0, "--json", "ca", "trust", "status"), "installed")

	out = kw(0, "ca", "trust", "uninstall")
	if !strings.Contains(out, ".crt: removed") || !strings.Contains(out, "nss sql:"+nssdb+": removed") {
		t.Errorf("uninstall says\n%s", out)
	}
	clients(false)
	if list := tool(t, certutil, "-L", "-d", "sql:"+nssdb); strings.Contains(list, "keywright") {
		t.Errorf("certutil -L still lists the root:\n%s", list)
	}
	checkTrustStatus(t, kw(3, "--json", "ca", "trust", "status"), "not_installed")
}

func requireRootDebian(t *testing.T) {
	t.Helper()
	why := rootDebianMissing()
	if why == "" {
		return
	}
	if interop.Required() {
		t.Fatalf("ca trust: %s, and KEYWRIGHT_REQUIRE_INTEROP=1", why)
	}
	t.Skipf("ca trust: %s; skipping (set KEYWRIGHT_REQUIRE_INTEROP=1 to make this a failure)", why)
}

// rootDebianMissing says why this machine cannot run a test that changes
// its system trust store, or "" when it can.
func rootDebianMissing() string {
	switch {
	case runtime.GOOS != "linux":
		return "needs Linux"
	case os.Geteuid() != 0:
		return "needs root (it changes the system trust store)"
	}
	if fi, err := os.Stat(debianAnchors); err != nil || !fi.IsDir() {
		return "needs a Debian-family system store (" + debianAnchors + ")"
	}
	return ""
}

// restoreTrustStore remembers the system store (anchors, the bundle, the
// links of /etc/ssl/certs, Java's cacerts) and, when the test ends, removes
// any keywright anchor the test left, rebuilds the store if it changed, and
// checks it is as it was.
func restoreTrustStore(t *testing.T) {
	t.Helper()
	anchors, links, bundle := listDir(t, debianAnchors), listDir(t, debianCerts), readBytes(t, debianBundle)
	java, _ := os.ReadFile(debianJava)
	t.Cleanup(func() {
		if listDir(t, debianAnchors) != anchors {
			for _, f := range strings.Fields(listDir(t, debianAnchors)) {
				if strings.HasPrefix(f, "keywright-") && !strings.Contains(anchors, f) {
					_ = os.Remove(filepath.Join(debianAnchors, f))
				}
			}
			tool(t, "update-ca-certificates", "--fresh")
		}
		if java != nil && !bytes.Equal(readBytes(t, debianJava), java) {
			_ = os.WriteFile(debianJava, java, 0o644) // rewritten by the hooks; its entries are checked above
		}
		// A machine whose bundle is not what update-ca-certificates makes
		// of its anchors (another order, a certificate added by hand) gets
		// its own bundle back, byte for byte; but a certificate the bundle
		// did not hold is an error first (what install added stayed).
		if now := readBytes(t, debianBundle); listDir(t, debianAnchors) == anchors && !bytes.Equal(now, bundle) {
			for _, extra := range certsNotIn(now, bundle) {
				t.Errorf("the system bundle holds a certificate it did not: %s", extra)
			}
			restoreFile(t, debianBundle, bundle)
		}
		if listDir(t, debianAnchors) != anchors || listDir(t, debianCerts) != links || !bytes.Equal(readBytes(t, debianBundle), bundle) {
			t.Errorf("the system trust store is not as the test found it")
		}
	})
}

// certsNotIn lists the subjects of the certificates of PEM bundle a that
// bundle b does not hold.
func certsNotIn(a, b []byte) []string {
	held := map[string]bool{}
	for rest := b; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		held[string(blk.Bytes)] = true
	}
	var out []string
	for rest := a; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		if !held[string(blk.Bytes)] {
			subject := "(unparsable)"
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
				subject = c.Subject.String()
			}
			out = append(out, subject)
		}
	}
	return out
}

// restoreFile puts data back at path through a new file renamed over it,
// so no reader of the system bundle ever sees it half written.
func restoreFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".keywright-test-restore"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Errorf("restoring %s: %v", path, err)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		t.Errorf("restoring %s: %v", path, err)
	}
}

// listDir is the names in dir, with the targets of links.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range entries {
		target, _ := os.Readlink(filepath.Join(dir, e.Name()))
		lines = append(lines, e.Name()+" "+target)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func readBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tool runs a program and returns its output; a failure fails the test.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// serveHTTPS serves chain and key over HTTPS on a loopback port until the
// test ends and returns the port's address.
func serveHTTPS(t *testing.T, chain, key string) string {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(chain, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }),
		ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// checkCurl: curl with its default CA paths accepts (exit 0) or refuses
// (exit 60) the server, as 127.0.0.1 and as localhost (pinned to loopback).
func checkCurl(t *testing.T, curl, addr string, trusted bool) {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	want := map[bool]int{true: 0, false: 60}[trusted]
	for _, url := range []string{"https://127.0.0.1:" + port + "/", "https://localhost:" + port + "/"} {
		out, err := exec.Command(curl, "-sS", "-o", "/dev/null", "--max-time", "20", "--noproxy", "*",
			"--resolve", "localhost:"+port+":127.0.0.1", url).CombinedOutput()
		if got := exitOf(t, err); got != want {
			t.Errorf("curl %s: exit %d, want %d\n%s", url, got, want, out)
		}
	}
}

// checkSClient: openssl s_client with its default CA paths verifies the
// chain and the name (exit 0), or refuses it (-verify_return_error).
func checkSClient(t *testing.T, openssl, addr string, trusted bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", addr, "-servername", "localhost",
		"-verify_hostname", "localhost", "-verify_return_error", "-brief")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if ok := exitOf(t, err) == 0; ok != trusted {
		t.Errorf("openssl s_client %s: accepted %v, want %v\n%s", addr, ok, trusted, out)
	}
}

func exitOf(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}

// checkTrustStatus: the status document says the system store and the NSS
// database are in state want.
func checkTrustStatus(t *testing.T, out, want string) {
	t.Helper()
	var doc struct {
		CA     string `json:"ca"`
		Stores []struct {
			Store  string `json:"store"`
			Result string `json:"result"`
		} `json:"stores"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, s := range doc.Stores {
		if s.Store == "system" || s.Store == "nss" {
			seen[s.Store] = true
			if s.Result != want {
				t.Errorf("status: %s is %s, want %s", s.Store, s.Result, want)
			}
		}
	}
	if doc.CA != localCA || !seen["system"] || !seen["nss"] {
		t.Errorf("status --json: %s", out)
	}
}

// lockMachineTrust holds a machine-wide lock until the test ends, so two
// test processes (two checkouts tested at once) never change the system's
// trust stores together and each finds them as the other left them.
func lockMachineTrust(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile("/tmp/keywright-trust-test.lock" /* fixed: every TMPDIR shares it */, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}
