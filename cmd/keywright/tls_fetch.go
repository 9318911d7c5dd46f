package main

// The chain a live TLS server presents, for `inspect https://HOST[:PORT]`
// and `verify --connect HOST[:PORT]` (README "Certificate authority"). The
// handshake does not verify anything (InsecureSkipVerify): the chain is
// captured as presented, so keywright's own checks can report what is
// wrong with a broken one. Nothing else in keywright opens a network
// connection but ssh install (list --expiring never does; tls_fetch_test.go).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/keywright/keywright/csr"
)

// defaultTLSPort is the port of https.
const defaultTLSPort = "443"

// peerChain is what a TLS server presented.
type peerChain struct {
	Addr      string // HOST:PORT as dialled
	Host      string // HOST: the SNI name and the default host to check
	Certs     []*x509.Certificate
	Version   uint16
	Cipher    uint16
	Handshake error // the handshake failed after the certificates came (a client certificate required, ...)
}

// allCipherSuites are the TLS 1.0-1.2 suites Go implements, insecure ones
// included (TLS 1.3's are not configurable).
func allCipherSuites() []uint16 {
	var ids []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids = append(ids, s.ID)
	}
	return ids
}

// tlsTarget parses HOST[:PORT] or https://HOST[:PORT][/...] into the host
// and the address to dial.
func tlsTarget(s string) (host, addr string, err error) {
	bad := func(why string) (string, string, error) {
		return "", "", usagef("%q: %s: give HOST[:PORT] or https://HOST[:PORT]", s, why)
	}
	if rest, ok := strings.CutPrefix(s, "https://"); ok {
		u, err := url.Parse("https://" + rest)
		if err != nil || u.User != nil {
			return bad("not a plain https URL")
		}
		s = u.Host
	} else if strings.Contains(s, "://") {
		return bad("only https:// is fetched")
	}
	host, port := s, defaultTLSPort
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1] // [::1] without a port
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return bad("the port must be 1 to 65535")
	}
	if host == "" || strings.ContainsAny(host, "/ ") {
		return bad("no host")
	}
	host = asciiHost(host) // an internationalised name is looked up and sent (SNI) as xn--
	return host, net.JoinHostPort(host, port), nil
}

// fetchChain connects to target, completes a TLS handshake (or gets as far
// as the server's certificates) within timeout and returns the chain.
// Errors are one line naming HOST:PORT.
func fetchChain(ctx context.Context, target string, timeout time.Duration) (*peerChain, error) {
	host, addr, err := tlsTarget(target)
	if err != nil {
		return nil, err
	}
	if err := positiveDuration("--timeout", timeout); err != nil {
		return nil, err
	}
	p := &peerChain{Addr: addr, Host: host}
	cfg := &tls.Config{
		ServerName:         host, // SNI (Go sends none for an IP address)
		InsecureSkipVerify: true, // keywright checks the chain itself, or says it did not
		// Any server keywright can talk to, old ones too: what is
		// described is the chain, not the quality of the connection.
		MinVersion:   tls.VersionTLS10,
		CipherSuites: allCipherSuites(),
		VerifyConnection: func(cs tls.ConnectionState) error {
			p.Certs, p.Version, p.Cipher = cs.PeerCertificates, cs.Version, cs.CipherSuite
			return nil
		},
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	if err == nil {
		conn.Close()
	}
	switch {
	case err != nil && len(p.Certs) > 0:
		p.Handshake = err // the chain came: describe it, and say the handshake then failed
	case err != nil:
		return nil, dialError(ctx, addr, timeout, err)
	case len(p.Certs) == 0:
		return nil, errorf("%s: the server presented no certificate", addr)
	}
	return p, nil
}

// dialError says in one line why there is no chain from addr.
func dialError(ctx context.Context, addr string, timeout time.Duration, err error) error {
	var ne net.Error
	var dnsErr *net.DNSError
	var alert tls.AlertError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.Canceled):
		return err // interrupted: exit 130
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errorf("%s: timeout: no TLS handshake within %s (give more with --timeout)", addr, timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return errorf("%s: connection refused", addr)
	case errors.As(err, &dnsErr):
		return errorf("%s: cannot resolve %s: %s", addr, dnsErr.Name, dnsErr.Err)
	case errors.As(err, &recErr):
		return errorf("%s: not a TLS server (its first bytes are not a TLS record)", addr)
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return errorf("%s: the connection was closed during the TLS handshake (not a TLS server, or it refused this client)", addr)
	case errors.As(err, &alert):
		return errorf("%s: the server ended the TLS handshake: %v", addr, err)
	}
	return errorf("%s: %v", addr, message(err))
}

// tlsSummary describes the connection, and says that nothing was checked.
func tlsSummary(p *peerChain, checked string) *report {
	r := (&report{}).add("address", p.Addr).add("kind", "TLS connection")
	if net.ParseIP(p.Host) == nil {
		r.add("server_name", p.Host) // sent as SNI
	}
	r.add("tls_version", tls.VersionName(p.Version)).add("cipher_suite", tls.CipherSuiteName(p.Cipher))
	r.add("certificates", len(p.Certs))
	if p.Handshake != nil {
		r.add("handshake", "failed after the certificates: "+message(p.Handshake))
	}
	return r.add("verified", checked)
}

// inspectTLS describes the chain the server at c.Ref (https://...)
// presents, as inspect describes a chain file, after the connection.
func (c *InspectCmd) inspectTLS(e *Env) error {
	p, err := fetchChain(e.Ctx, c.Ref, c.Timeout)
	if err != nil {
		return err
	}
	name := "https://" + p.Addr
	reports := []*report{tlsSummary(p, "no: shown as the server presented it; inspect does not check it (keywright verify --connect "+p.Addr+" does)")}
	var chain []byte
	for _, cert := range p.Certs {
		r, err := describeCert(e, name, cert)
		if err != nil {
			return err
		}
		reports = append(reports, r)
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: csr.BlockCert, Bytes: cert.Raw})...)
	}
	if tree := chainReport(e, name, chain); tree != nil { // inspect_ca.go
		reports = append(reports, tree)
	}
	return writeReports(e, reports)
}

// connect is verify's certificate and chain from --connect: what the
// server presents, with the host check on HOST unless --host is given.
func (c *VerifyCmd) connect(e *Env) (string, []*x509.Certificate, error) {
	p, err := fetchChain(e.Ctx, c.Connect, c.Timeout)
	if err != nil {
		return "", nil, err
	}
	if c.Host == "" {
		c.Host = p.Host
	}
	if p.Handshake != nil {
		e.UI.Warnf("%s: the TLS handshake failed after the server's certificates: %s", p.Addr, message(p.Handshake))
	}
	e.UI.Infof("%s: %s, %s, %d certificate(s) presented", p.Addr, tls.VersionName(p.Version), tls.CipherSuiteName(p.Cipher), len(p.Certs))
	return p.Addr, p.Certs, nil
}
