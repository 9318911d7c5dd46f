// Command fill grows a keywright store to a given number of certificates,
// in-process (the library, not one process per certificate), for the
// benchmarks in bench/ that measure commands at fleet size.
//
//	go run ./bench/fill -store DIR -ca NAME -to N [-days D]
//
// Each certificate is what `keywright issue` writes: NAME.key, NAME.crt and
// NAME.pem, recorded by the CA. Certificates are named f000001, f000002, ...
// continuing from those already there; -days sets their lifetime (so a
// benchmark can have nothing, or everything, expiring).
package main

import (
	"context"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

func main() {
	dir := flag.String("store", "pki", "the store")
	caName := flag.String("ca", "root", "the CA that signs (unencrypted key)")
	to := flag.Int("to", 1000, "how many f* certificates the store should hold")
	days := flag.Int("days", 90, "lifetime of each certificate")
	jobs := flag.Int("jobs", 4, "signers at once")
	flag.Parse()
	if err := fill(*dir, *caName, *to, *days, *jobs); err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
}

func fill(dir, caName string, to, days, jobs int) error {
	st := store.New(dir)
	a, err := ca.Load(st, caName)
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(a.Paths.Key)
	if err != nil {
		return err
	}
	key, err := keygen.ParsePEM(keyPEM, nil)
	if err != nil {
		return err
	}
	if err := a.SetKey(key.Key); err != nil {
		return err
	}
	have, _ := filepath.Glob(filepath.Join(dir, "f*.crt"))
	next := atomic.Int64{}
	next.Store(int64(len(have)))
	var wg sync.WaitGroup
	errs := make(chan error, jobs)
	for range jobs {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(to); i = next.Add(1) {
				if err := issueOne(st, a, fmt.Sprintf("f%06d", i), days); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func issueOne(st *store.Store, a *ca.Authority, name string, days int) error {
	key, err := keygen.Generate(keygen.Spec{})
	if err != nil {
		return err
	}
	keyPEM, err := keygen.MarshalPEM(key)
	if err != nil {
		return err
	}
	sans, err := csr.ParseSANs([]string{name + ".fleet.example.test"})
	if err != nil {
		return err
	}
	profile, _ := ca.ProfileByName("server")
	keyPath, _ := st.Path(name, store.Key)
	certPath, _ := st.Path(name, store.Cert)
	chainPath, _ := st.Path(name, store.Chain)
	_, err = a.Issue(context.Background(), ca.IssueRequest{
		Store: st, CertPath: certPath, ChainPath: chainPath, LockTimeout: time.Minute,
		Extra: []store.File{{Path: keyPath, Data: keyPEM, Mode: store.Key.Mode}},
		Sign: ca.SignRequest{Subject: pkix.Name{CommonName: name + ".fleet.example.test"}, SANs: sans,
			PublicKey: key.Public(), Profile: profile, Days: days},
	})
	return err
}
