package store_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/keywright/keywright/store"
)

func ExampleTx() {
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)
	s := store.New(filepath.Join(dir, "pki"))
	keyPath, _ := s.Path("web", store.Key)
	certPath, _ := s.Path("web", store.Cert)

	tx := store.Tx{}
	tx.Add(keyPath, []byte("key bytes"), store.Key.Mode)
	tx.Add(certPath, []byte("cert bytes"), store.Cert.Mode)
	fmt.Println(tx.Commit())

	// A second write of the same names fails, and changes nothing.
	fmt.Println(store.WriteFile(certPath, []byte("other"), store.Cert.Mode, false) != nil)
	// Output:
	// <nil>
	// true
}
