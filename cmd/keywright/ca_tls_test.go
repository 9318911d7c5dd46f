package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/keywright/keywright/internal/interop"
)

// tlsStore issues root -> int -> one leaf per key type and returns the store.
func tlsStore(t *testing.T) string {
	t.Helper()
	exe := keywrightExe(t)
	dir := filepath.Join(t.TempDir(), "pki")
	for _, args := range [][]string{
		{"ca", "init", "root", "--no-passphrase"},
		{"ca", "init", "int", "--parent", "root", "--no-passphrase", "--permit-dns", "example.test", "--permit-ip", "127.0.0.0/8"},
		{"issue", "ec", "--ca", "int", "--san", "www.example.test", "--san", "api.example.test", "--san", "127.0.0.1"},
		{"issue", "rsa", "--ca", "int", "--type", "rsa", "--bits", "2048", "--san", "www.example.test", "--san", "api.example.test", "--san", "127.0.0.1"},
		{"issue", "ed", "--ca", "int", "--type", "ed25519", "--san", "www.example.test", "--san", "api.example.test", "--san", "127.0.0.1"},
	} {
		out, err := exec.Command(exe, append([]string{"--store", dir, "-q"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func rootPool(t *testing.T, dir string) *x509.CertPool {
	data, err := os.ReadFile(filepath.Join(dir, "root.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatal("root.crt: no certificate")
	}
	return pool
}

// TestIssuedChainTLS serves NAME.pem + NAME.key with crypto/tls on
// loopback; a client trusting only the root connects for each SAN and is
// refused for any other name.
func TestIssuedChainTLS(t *testing.T) {
	dir := tlsStore(t)
	roots := rootPool(t, dir)
	for _, name := range []string{"ec", "rsa", "ed"} {
		t.Run(name, func(t *testing.T) {
			pair, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"))
			if err != nil {
				t.Fatal(err)
			}
			if len(pair.Certificate) != 2 {
				t.Fatalf("%s.pem holds %d certificates, want leaf + intermediate", name, len(pair.Certificate))
			}
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go serveHandshakes(ln)
			for host, ok := range map[string]bool{"www.example.test": true, "api.example.test": true, "127.0.0.1": true, "other.example.test": false, "example.test": false} {
				err := dialTLS(ln.Addr().String(), host, roots)
				if (err == nil) != ok {
					t.Errorf("handshake as %s: %v, want success %v", host, err, ok)
				}
			}
		})
	}
}

func serveHandshakes(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_ = c.(*tls.Conn).Handshake()
		}()
	}
}

func dialTLS(addr, host string, roots *x509.CertPool) error {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{RootCAs: roots, ServerName: host}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// TestIssuedChainOpenSSLCurl serves the chain with openssl s_server; curl
// trusting only the root accepts each SAN and refuses another name (exit 60).
func TestIssuedChainOpenSSLCurl(t *testing.T) {
	openssl := interop.Tool(t, "openssl")
	curl := interop.Tool(t, "curl")
	dir := tlsStore(t)
	for _, name := range []string{"ec", "rsa", "ed"} {
		for _, host := range []string{"www.example.test", "api.example.test"} {
			out, err := exec.Command(openssl, "verify", "-CAfile", filepath.Join(dir, "root.crt"), "-untrusted", filepath.Join(dir, "int.crt"),
				"-purpose", "sslserver", "-verify_hostname", host, filepath.Join(dir, name+".crt")).CombinedOutput()
			if err != nil {
				t.Errorf("openssl verify %s for %s: %v\n%s", name, host, err, out)
			}
		}
	}
	for _, name := range []string{"ec", "rsa"} {
		t.Run(name, func(t *testing.T) {
			port := startSServer(t, openssl, dir, name)
			for host, want := range map[string]int{"www.example.test": 0, "api.example.test": 0, "other.example.test": 60} {
				url := fmt.Sprintf("https://%s:%d/", host, port)
				cmd := exec.Command(curl, "-sS", "-o", "/dev/null", "--max-time", "5", "--cacert", filepath.Join(dir, "root.crt"),
					"--resolve", fmt.Sprintf("%s:%d:127.0.0.1", host, port), url)
				out, err := cmd.CombinedOutput()
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("curl %s: exit %d, want %d\n%s", url, got, want, out)
				}
			}
		})
	}
}

// startSServer runs openssl s_server on a free loopback port until the test
// ends, and waits (bounded) until it accepts connections.
func startSServer(t *testing.T, openssl, dir, name string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(openssl, "s_server", "-accept", fmt.Sprintf("127.0.0.1:%d", port), "-www", "-quiet",
		"-cert", filepath.Join(dir, name+".crt"), "-key", filepath.Join(dir, name+".key"), "-cert_chain", filepath.Join(dir, "int.crt"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("openssl s_server did not listen on port %d within 10s", port)
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness, bounded by the deadline
	}
}
