package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// A root CA is created in a store, then signs a server certificate: the
// record, the certificate and its chain are written under the CA's lock.
func Example() {
	dir, _ := os.MkdirTemp("", "kw-example")
	defer os.RemoveAll(dir)
	st := store.New(filepath.Join(dir, "pki"))

	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keyPEM, _ := keygen.MarshalPEM(rootKey)
	paths, _ := ca.PathsFor(st, "root")
	root, err := ca.Create(context.Background(), ca.CreateRequest{
		Store: st, Paths: paths, KeyPEM: keyPEM, LockTimeout: time.Second,
		Root: ca.RootRequest{Subject: pkix.Name{CommonName: "Example Root", Organization: []string{"Example"}}, Key: rootKey, PathLen: -1},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sans, _ := csr.ParseSANs([]string{"www.example.test", "10.0.0.5"})
	profile, _ := ca.ProfileByName("server")
	certPath, _ := st.Path("www", store.Cert)
	chainPath, _ := st.Path("www", store.Chain)
	issued, err := root.Issue(context.Background(), ca.IssueRequest{
		Store: st, CertPath: certPath, ChainPath: chainPath, LockTimeout: time.Second,
		Sign: ca.SignRequest{Subject: pkix.Name{CommonName: "www.example.test"}, SANs: sans, PublicKey: leafKey.Public(), Profile: profile},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(issued.Entry.File, issued.Entry.Profile, issued.Entry.SANs, issued.Cert.IsCA)

	n := 0
	root.Log(context.Background(), func(ev ca.Event) error { n++; return nil })
	fmt.Println(n, "certificates recorded")
	// Output:
	// www.crt server [dns:www.example.test ip:10.0.0.5] false
	// 2 certificates recorded
}

func ExampleParseConstraints() {
	c, err := ca.ParseConstraints(ca.ConstraintValues{PermitDNS: []string{"Example.TEST"}, PermitIP: []string{"10.0.0.0/8"}})
	fmt.Println(c.PermitDNS, c.PermitIP, err)
	_, err = ca.ParseConstraints(ca.ConstraintValues{PermitIP: []string{"10.1.2.3/8"}})
	fmt.Println(err)
	// Output:
	// [example.test] [10.0.0.0/8] <nil>
	// ca: permitted IP range "10.1.2.3/8": host bits are set; did you mean 10.0.0.0/8?
}

func ExampleParseReason() {
	for _, in := range []string{"keyCompromise", "superseded", ""} {
		r, _ := ca.ParseReason(in)
		fmt.Println(r)
	}
	// Output:
	// key-compromise
	// superseded
	// unspecified
}
