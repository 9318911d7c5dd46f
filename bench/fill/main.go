// Command fill grows a keywright store to a given number of certificates,
// in-process (the library, not one process per certificate), for the
// benchmarks in bench/ that measure commands at fleet size.
//
//	go run ./bench/fill -store DIR -ca NAME -to N [-days D]
//
// Each certificate is what `keywright issue` writes: NAME.key, NAME.crt and
// NAME.pem, recorded by the CA; they are issued in group commits of 256
// (ca.IssueGroup, as batch issues). Certificates are named f000001, f000002, ...
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
	flag.Parse()
	if err := fill(*dir, *caName, *to, *days); err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
}

func fill(dir, caName string, to, days int) error {
	st := store.New(dir)
	a, err := ca.Load(context.Background(), st, caName)
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
	for from := len(have) + 1; from <= to; from += chunk {
		var reqs []ca.IssueRequest
		for i := from; i < from+chunk && i <= to; i++ {
			r, err := request(st, fmt.Sprintf("f%06d", i), days)
			if err != nil {
				return err
			}
			reqs = append(reqs, r)
		}
		for _, res := range a.IssueGroup(context.Background(), reqs, time.Minute) {
			if res.Err != nil {
				return res.Err
			}
		}
	}
	return nil
}

// chunk is how many certificates one group commit writes (as batch does).
const chunk = 256

// request is what `keywright issue NAME` asks for: a new P-256 key and a
// server certificate for NAME.fleet.example.test.
func request(st *store.Store, name string, days int) (ca.IssueRequest, error) {
	key, err := keygen.Generate(keygen.Spec{})
	if err != nil {
		return ca.IssueRequest{}, err
	}
	keyPEM, err := keygen.MarshalPEM(key)
	if err != nil {
		return ca.IssueRequest{}, err
	}
	sans, err := csr.ParseSANs([]string{name + ".fleet.example.test"})
	if err != nil {
		return ca.IssueRequest{}, err
	}
	profile, _ := ca.ProfileByName("server")
	keyPath, _ := st.Path(name, store.Key)
	certPath, _ := st.Path(name, store.Cert)
	chainPath, _ := st.Path(name, store.Chain)
	return ca.IssueRequest{
		Store: st, CertPath: certPath, ChainPath: chainPath,
		Extra: []store.File{{Path: keyPath, Data: keyPEM, Mode: store.Key.Mode}},
		Sign: ca.SignRequest{Subject: pkix.Name{CommonName: name + ".fleet.example.test"}, SANs: sans,
			PublicKey: key.Public(), Profile: profile, Days: days},
	}, nil
}
