package main

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// tlsStores makes a store with a root, an intermediate "int" and two
// leaves it issued: "web" (127.0.0.1 and localhost) and "other"
// (other.example); and a second store whose local-ca issued "stranger"
// (127.0.0.1). It returns both directories.
func tlsStores(t *testing.T) (dir, strangers string) {
	t.Helper()
	dir, strangers = filepath.Join(t.TempDir(), "pki"), filepath.Join(t.TempDir(), "pki2")
	for _, args := range [][]string{
		{"--store", dir, "ca", "init", "root", "--no-passphrase"},
		{"--store", dir, "ca", "init", "int", "--parent", "root", "--no-passphrase"},
		{"--store", dir, "issue", "web", "--ca", "int", "--san", "127.0.0.1", "--san", "localhost"},
		{"--store", dir, "issue", "other", "--ca", "int", "--san", "other.example"},
		{"--store", strangers, "issue", "stranger", "--san", "127.0.0.1"},
	} {
		if code, _, stderr := runInProcess(t, "", nil, append([]string{"-q"}, args...)...); code != 0 {
			t.Fatalf("keywright %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
	}
	return dir, strangers
}

// serveTLS serves NAME.pem (the leaf and its intermediates) with NAME.key
// from dir on 127.0.0.1 until the test ends, and returns its address.
func serveTLS(t *testing.T, dir, name string) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	return acceptAll(t, ln, func(c net.Conn, _ <-chan struct{}) { c.(*tls.Conn).Handshake() })
}

// serveRaw listens on 127.0.0.1 until the test ends and gives each
// connection to handle (done closes when the test ends).
func serveRaw(t *testing.T, handle func(c net.Conn, done <-chan struct{})) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return acceptAll(t, ln, handle)
}

func acceptAll(t *testing.T, ln net.Listener, handle func(c net.Conn, done <-chan struct{})) string {
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); close(done) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); handle(c, done) }()
		}
	}()
	return ln.Addr().String()
}

func TestInspectHTTPS(t *testing.T) {
	dir, _ := tlsStores(t)
	addr := serveTLS(t, dir, "web")
	code, stdout, stderr := runInProcess(t, "", nil, "--store", dir, "inspect", "https://"+addr)
	if code != 0 {
		t.Fatalf("inspect https://%s: exit %d: %s", addr, code, stderr)
	}
	for _, want := range []string{"address: " + addr, "kind: TLS connection", "tls version: TLS 1.3",
		"verified: no: shown as the server presented it", "subject: CN=localhost", "subject: CN=int,O=keywright",
		"kind: certificate chain", "file: https://" + addr} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}
	if n := strings.Count(stdout, "kind: certificate\n"); n != 2 {
		t.Errorf("inspect shows %d certificates, want the 2 the server presents:\n%s", n, stdout)
	}

	code, stdout, stderr = runInProcess(t, "", nil, "--store", dir, "--json", "inspect", "https://"+addr+"/some/path")
	var doc struct{ Objects []map[string]any }
	if err := json.Unmarshal([]byte(stdout), &doc); code != 0 || err != nil {
		t.Fatalf("inspect --json: exit %d, %v: %s%s", code, err, stdout, stderr)
	}
	if len(doc.Objects) < 3 || doc.Objects[0]["kind"] != "TLS connection" || doc.Objects[1]["subject"] != "CN=localhost" ||
		doc.Objects[2]["subject"] != "CN=int,O=keywright" {
		t.Fatalf("inspect --json objects: %v", doc.Objects)
	}
}

func TestVerifyConnect(t *testing.T) {
	dir, strangers := tlsStores(t)
	web, other, stranger := serveTLS(t, dir, "web"), serveTLS(t, dir, "other"), serveTLS(t, strangers, "stranger")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--connect", web, "--ca", "int"}, 0, web + ": ok (validity, chain, revocation, host)"},
		{[]string{"--connect", web}, 0, web + ": ok"},
		{[]string{"--connect", "https://" + web, "--host", "localhost"}, 0, web + ": ok"},
		{[]string{"--connect", web, "--ca", "int", "--at", "2040-01-01"}, 3, web + ": validity: expired on"},
		{[]string{"--connect", web, "--host", "www.example"}, 3, web + ": host: the certificate is valid for localhost, 127.0.0.1, not www.example"},
		{[]string{"--connect", other, "--ca", "int"}, 3, other + ": host: the certificate is valid for other.example, not 127.0.0.1"},
		{[]string{"--connect", stranger}, 3, stranger + ": chain: signed by an unknown authority"},
	}
	for _, tt := range tests {
		code, _, stderr := runInProcess(t, "", nil, append([]string{"--store", dir, "verify"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("verify %s: exit %d, want %d with %q:\n%s", strings.Join(tt.args, " "), code, tt.code, tt.want, stderr)
		}
	}
	code, stdout, _ := runInProcess(t, "", nil, "--store", dir, "--json", "verify", "--connect", web, "--ca", "int")
	var rep verifyReport
	if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil || rep.File != web || !rep.OK || len(rep.Checks) != 5 ||
		rep.Checks[3].Name != "key" || !rep.Checks[3].Skipped || rep.Checks[4].Name != "host" || !rep.Checks[4].OK {
		t.Fatalf("verify --json --connect: exit %d, %v: %+v", code, err, rep)
	}
}

// Each way of not getting a chain is one error line naming HOST:PORT.
func TestFetchChainErrors(t *testing.T) {
	dir, _ := tlsStores(t)
	silent := serveRaw(t, func(_ net.Conn, done <-chan struct{}) { <-done })
	garbage := serveRaw(t, func(c net.Conn, _ <-chan struct{}) {
		buf := make([]byte, 4096)
		c.Read(buf) // the ClientHello, so the close is not a reset
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
	})
	closing := serveRaw(t, func(net.Conn, <-chan struct{}) {})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()

	tests := []struct {
		target string
		want   string
	}{
		{silent, silent + ": timeout: no TLS handshake within 200ms"},
		{garbage, garbage + ": not a TLS server"},
		{closing, closing + ": the connection was closed during the TLS handshake"},
		{refused, refused + ": connection refused"},
	}
	for _, tt := range tests {
		for _, args := range [][]string{
			{"inspect", "https://" + tt.target, "--timeout", "200ms"},
			{"verify", "--connect", tt.target, "--timeout", "200ms"},
		} {
			code, stdout, stderr := runInProcess(t, "", nil, append([]string{"--store", dir}, args...)...)
			if code != 1 || stdout != "" || stderr != "keywright: error: "+strings.TrimPrefix(stderr, "keywright: error: ") ||
				strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("%s: exit %d, want 1 and one line with %q:\n%s", strings.Join(args, " "), code, tt.want, stderr)
			}
		}
	}
}

func TestTLSTargetUsage(t *testing.T) {
	dir, _ := tlsStores(t)
	for _, args := range [][]string{
		{"verify", "--connect", "127.0.0.1:0"},
		{"verify", "--connect", "ftp://example.com"},
		{"inspect", "https://user:pw@example.com"},
		{"verify", "--connect", "example.com", "--timeout", "0s"},
		{"verify", "web", "--connect", "example.com"},
		{"verify"},
	} {
		if code, _, stderr := runInProcess(t, "", nil, append([]string{"--store", dir}, args...)...); code != 2 {
			t.Errorf("%s: exit %d, want 2 (usage): %s", strings.Join(args, " "), code, stderr)
		}
	}
	host, addr, err := tlsTarget("https://[::1]/x")
	if err != nil || host != "::1" || addr != "[::1]:443" {
		t.Errorf("tlsTarget(https://[::1]/x) = %q, %q, %v", host, addr, err)
	}
}
