// Command floor is the in-process floor for bench/batch.sh: the work of
// `keywright batch` for N server certificates done with the Go standard
// library alone, with the same durability and nothing else.
//
//	go run ./bench/floor -dir DIR -n N
//
// Per certificate: a P-256 key (PKCS#8 PEM), a request signed by it, a
// certificate from one P-256 CA (3 DNS names and an IP, 128-bit serial,
// server profile) checked against the CA, and the files NAME.key, .csr, .crt
// and .pem, each written to a temporary file, synced and linked into place;
// the directory is synced and one record line per certificate appended and
// synced once per group of 128, as batch's group commits do. Keys are made
// and certificates signed on every CPU.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

const group = 128

type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

type entry struct {
	name  string
	files map[string][]byte
	line  []byte
}

func main() {
	dir := flag.String("dir", "floor", "where the files go")
	n := flag.Int("n", 1000, "certificates")
	flag.Parse()
	if err := run(*dir, *n); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := newCA()
	if err != nil {
		return err
	}
	rec, err := os.OpenFile(filepath.Join(dir, "record.jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer rec.Close()
	for from := 0; from < n; from += group {
		entries, err := makeGroup(ca, from, min(from+group, n))
		if err != nil {
			return err
		}
		if err := writeGroup(dir, rec, entries); err != nil {
			return err
		}
	}
	return nil
}

func newCA() (*issuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	t := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "floor CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: []byte{1, 2, 3, 4}}
	der, err := x509.CreateCertificate(rand.Reader, t, t, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return &issuer{cert: cert, key: key}, err
}

// makeGroup makes entries from..to-1 on every CPU.
func makeGroup(ca *issuer, from, to int) ([]entry, error) {
	out := make([]entry, to-from)
	errs := make([]error, to-from)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range jobs {
				out[i-from], errs[i-from] = makeEntry(ca, i)
			}
		})
	}
	for i := from; i < to; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func makeEntry(ca *issuer, i int) (entry, error) {
	name := fmt.Sprintf("h%d", i+1)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return entry{}, err
	}
	dns := []string{name + ".example.test", "www." + name + ".example.test", "api." + name + ".example.test"}
	ip := net.IPv4(10, byte(i>>16), byte(i>>8), byte(i))
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: dns[0]}, DNSNames: dns, IPAddresses: []net.IP{ip}}, key)
	if err != nil {
		return entry{}, err
	}
	certDER, err := sign(ca, key, dns, ip)
	if err != nil {
		return entry{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return entry{}, err
	}
	crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})
	line, _ := json.Marshal(map[string]any{"event": "issued", "file": name + ".crt", "sha256": hex.EncodeToString(certDER[:8])})
	return entry{name: name, line: append(line, '\n'), files: map[string][]byte{
		".key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		".csr": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}),
		".crt": crt, ".pem": crt,
	}}, nil
}

// sign issues the leaf and checks it against the CA, as keywright verifies
// every certificate before it writes it.
func sign(ca *issuer, key *ecdsa.PrivateKey, dns []string, ip net.IP) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	t := &x509.Certificate{SerialNumber: serial.Add(serial, big.NewInt(1)), Subject: pkix.Name{CommonName: dns[0]},
		NotBefore: now.Add(-5 * time.Minute), NotAfter: now.AddDate(0, 0, 90), DNSNames: dns, IPAddresses: []net.IP{ip},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, t, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return der, cert.CheckSignatureFrom(ca.cert)
}

// writeGroup writes every file of the group (synced, 16 at a time), links
// them into place, syncs the directory, then appends and syncs the record.
func writeGroup(dir string, rec *os.File, entries []entry) error {
	type staged struct{ temp, final string }
	var files []staged
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var firstErr error
	for _, e := range entries {
		for ext, data := range e.files {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				temp, err := writeSynced(dir, data)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				files = append(files, staged{temp, filepath.Join(dir, e.name+ext)})
			})
		}
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	var lines []byte
	for _, e := range entries {
		lines = append(lines, e.line...)
	}
	if _, err := rec.Write(lines); err != nil {
		return err
	}
	if err := rec.Sync(); err != nil {
		return err
	}
	for _, f := range files {
		if err := os.Link(f.temp, f.final); err != nil {
			return err
		}
		os.Remove(f.temp)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func writeSynced(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".floor-tmp-*")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return f.Name(), err
	}
	return f.Name(), f.Sync()
}
