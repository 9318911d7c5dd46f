package ca

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keywright/keywright/store"
)

// The benchmarks here measure the paths whose cost could grow with the
// store (README "Performance"): each runs at a small and a fleet-size store,
// so a cost that grows with the store shows as a ratio between the two.

// fleet makes a store whose root CA has issued n leaves, each with its
// NAME.crt, recorded as Issue records them (files written without fsync:
// only the setup is faster than Issue).
func fleet(b *testing.B, n int) (*store.Store, *Authority) {
	b.Helper()
	st := store.New(filepath.Join(b.TempDir(), "pki"))
	root := testCA(b, st, "root", nil, nil)
	ctx := context.Background()
	rec, done, err := root.openRecord(ctx, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer done()
	for i := range n {
		name := fmt.Sprintf("f%06d", i)
		s, err := root.Sign(leafReq(b, "", name+".example.test"))
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(st.Dir, name+store.Cert.Suffix)
		if err := os.WriteFile(path, EncodeCerts(s.Cert), 0o644); err != nil {
			b.Fatal(err)
		}
		if _, err := rec.Issued(ctx, issuedEvent(s.Cert, "server", path, testNow), nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	return st, root
}

var sizes = []int{10, 10000}

var bigOne = big.NewInt(1)

func BenchmarkRecordInsert(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("store=%d", n), func(b *testing.B) {
			st, root := fleet(b, n)
			s, _ := root.Sign(leafReq(b, "", "x.example.test"))
			rec, done, err := root.openRecord(context.Background(), time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer done()
			b.ResetTimer()
			for b.Loop() {
				s.Cert.SerialNumber.Add(s.Cert.SerialNumber, bigOne)
				ev := issuedEvent(s.Cert, "server", filepath.Join(st.Dir, "x.crt"), testNow)
				if _, err := rec.Issued(context.Background(), ev, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRecordLookup is the serial check and the revocation lookup.
func BenchmarkRecordLookup(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("store=%d", n), func(b *testing.B) {
			_, root := fleet(b, n)
			rec, done, err := root.openRecord(context.Background(), time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer done()
			serial := FormatSerial(root.Cert.SerialNumber)
			for b.Loop() {
				if e, err := rec.Lookup(context.Background(), serial); err != nil || e == nil {
					b.Fatal(e, err)
				}
			}
		})
	}
}

// BenchmarkCADiscovery is how issue (without --ca) and verify find the
// store's CAs: open the record, read the CAs' own files.
func BenchmarkCADiscovery(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("store=%d", n), func(b *testing.B) {
			st, _ := fleet(b, n)
			for b.Loop() {
				if cas, err := CAs(context.Background(), st); err != nil || len(cas) != 1 {
					b.Fatal(cas, err)
				}
			}
		})
	}
}

func BenchmarkInventory(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("store=%d", n), func(b *testing.B) {
			st, _ := fleet(b, n)
			for b.Loop() {
				count := 0
				if _, err := Inventory(context.Background(), st, testNow, func(Item) error { count++; return nil }); err != nil || count != n+1 {
					b.Fatal(count, err)
				}
			}
		})
	}
}

// BenchmarkExpiringNone is `list --expiring 30d` with nothing expiring.
func BenchmarkExpiringNone(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("store=%d", n), func(b *testing.B) {
			st, _ := fleet(b, n)
			for b.Loop() {
				if _, err := Expiring(context.Background(), st, testNow, 24*time.Hour, func(Item) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIssue is one full issue: sign, record, write and fsync the
// certificate and its chain.
func BenchmarkIssue(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("store=%d", n), func(b *testing.B) {
			st, root := fleet(b, n)
			i := 0
			for b.Loop() {
				i++
				issueLeaf(b, st, root, fmt.Sprintf("b%06d", i))
			}
		})
	}
}
