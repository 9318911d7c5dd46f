package ca

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/keywright/keywright/store"
)

// errSkip marks a store entry that is not a certificate file to list.
var errSkip = newError("not a regular file")

// Item is one certificate of a store with what the store knows about it.
type Item struct {
	Stored
	CA     string // NAME of the store CA that signed it (its own for a self-signed one); "" if unknown
	Entry  *Entry // its entry in the record; nil if not recorded
	Status string
	// Problem is why Status is StatusUnknown: the record entry of the
	// certificate, or of a CA above it, cannot be read completely.
	Problem error
}

// Inventory calls fn with every certificate in st, by NAME, with its
// issuer, record entry and status at now. Each file is parsed once and let
// go after fn; its entry comes from the record read alongside in NAME order
// (so neither the certificates nor the record are held in memory), and an
// unrecorded certificate's issuer is found by key id among the store's CAs.
// Files that do not parse are returned as problems; they do not stop the
// listing.
func Inventory(ctx context.Context, st *store.Store, now time.Time, fn func(Item) error) ([]error, error) {
	names, err := CertNames(st.Dir)
	if err != nil {
		return nil, err
	}
	return InventoryOf(ctx, st, names, now, fn)
}

// InventoryOf is Inventory of the certificates names (CertNames' list, in
// its order), for a caller that looks at the names first.
func InventoryOf(ctx context.Context, st *store.Store, names []string, now time.Time, fn func(Item) error) ([]error, error) {
	v, err := newStoreView(ctx, st)
	if err != nil {
		return nil, err
	}
	defer v.db.Close()
	cur, err := v.db.byName(ctx)
	if err != nil {
		return nil, err
	}
	defer cur.close()
	var problems []error
	for _, name := range names {
		s, err := readStored(st.Dir, name)
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			problems = append(problems, err)
			continue
		}
		sum := fingerprint(s.Cert)
		e, err := cur.entryOf(name, sum)
		if e == nil && err == nil {
			e, err = v.db.bySHA256(ctx, sum) // a copy of a recorded file (rare)
		}
		if err != nil {
			return problems, err
		}
		if err := fn(v.item(s, e, now)); err != nil {
			return problems, err
		}
	}
	return problems, nil
}

// Expiring calls fn with each certificate the store's record holds that is
// not revoked and ends before now+window, soonest first. The record's
// not-after index answers; only the files of the certificates found are
// read, and a file that now holds another certificate (renewed, replaced)
// is passed over.
func Expiring(ctx context.Context, st *store.Store, now time.Time, window time.Duration, fn func(Item) error) ([]error, error) {
	return ExpiringTable(ctx, st, now, window, nil, fn)
}

// ExpiringTable is Expiring for a table printed as it goes: head, when not
// nil, is called first with the width of its NAME and CA columns (the
// longest NAME the window holds, and CA name), which the record's
// not-after index answers without reading a certificate.
func ExpiringTable(ctx context.Context, st *store.Store, now time.Time, window time.Duration,
	head func(width int) error, fn func(Item) error) ([]error, error) {
	v, err := newStoreView(ctx, st)
	if err != nil {
		return nil, err
	}
	defer v.db.Close()
	if head != nil {
		width, err := v.db.expiringWidth(ctx, now.Add(window))
		for _, s := range v.issuers.all {
			width = max(width, len(s.Name))
		}
		if err == nil {
			err = head(width)
		}
		if err != nil {
			return nil, err
		}
	}
	var problems []error
	err = v.db.Expiring(ctx, now.Add(window), func(e *Entry) error {
		certs, err := ReadCerts(v.db.PathOf(e))
		switch {
		case err != nil:
			problems = append(problems, err)
			return nil
		case e.Damaged == nil && fingerprint(certs[0]) != e.SHA256:
			return nil
		}
		it := v.item(Stored{Name: e.Name, Path: v.db.PathOf(e), Cert: certs[0]}, e, now)
		if it.Status == StatusRevoked || it.Status == StatusIssuerRevoked {
			return nil
		}
		return fn(it)
	})
	return problems, err
}

// storeView is what listing needs to know about a store's CAs and record.
type storeView struct {
	db       *DB
	issuers  *issuerIndex
	recorded map[[32]byte]*Entry   // the CAs' own entries, by certificate fingerprint
	below    map[string]caStanding // by CA name: what the certificates it signed inherit
}

// caStanding is what a CA passes on to the certificates it signed: it, or
// a CA above it, is revoked; or the record entry of one of them cannot be
// read (then their status is unknown).
type caStanding struct {
	revoked bool
	damaged error
}

func newStoreView(ctx context.Context, st *store.Store) (*storeView, error) {
	cas, err := KnownCAs(ctx, st)
	if err != nil {
		return nil, err
	}
	db, err := OpenDB(ctx, st.Dir, discoveryTimeout)
	if err != nil {
		return nil, err
	}
	v := &storeView{db: db, issuers: newIssuerIndex(cas), recorded: map[[32]byte]*Entry{}, below: map[string]caStanding{}}
	keep := func(e *Entry) error {
		var sum [32]byte
		hex.Decode(sum[:], []byte(e.SHA256))
		v.recorded[sum] = slim(e)
		return nil
	}
	// Damaged entries come with Damaged set: their CAs pass it on.
	if err := db.entriesOf(ctx, cas, keep); err != nil {
		db.Close()
		return nil, err
	}
	v.markCAs(cas)
	return v, nil
}

// slim keeps what listing uses of an entry (its CA and revocation), so
// the map of a 10,000-certificate store stays small.
func slim(e *Entry) *Entry {
	return &Entry{CA: e.CA, Serial: e.Serial, Name: e.Name, Profile: e.Profile, SHA256: e.SHA256,
		Revoked: e.Revoked, RevokedAt: e.RevokedAt, Reason: e.Reason, Damaged: e.Damaged}
}

// markCAs finds, for each CA, what the certificates it signed inherit
// (README "Certificate authority": everything below a revoked CA is
// issuer-revoked): the CA is revoked in its issuer's record, or sits below
// one that is; else the record entry of the CA or of one above it is
// damaged, and their status is unknown.
func (v *storeView) markCAs(cas []Stored) {
	parent := map[string]string{}
	own := map[string]caStanding{}
	for _, s := range cas {
		if e := v.recorded[sha256.Sum256(s.Cert.Raw)]; e != nil {
			parent[s.Name] = e.CA
			own[s.Name] = caStanding{revoked: e.Revoked && e.Damaged == nil, damaged: e.Damaged}
		}
	}
	for _, s := range cas {
		var st caStanding
		name := s.Name
		for hops := 0; name != "" && hops <= len(cas); hops++ {
			o := own[name]
			if o.revoked {
				st = caStanding{revoked: true}
				break
			}
			if st.damaged == nil {
				st.damaged = o.damaged
			}
			next := parent[name]
			if next == name {
				break
			}
			name = next
		}
		v.below[s.Name] = st
	}
}

// item is s with its issuer, entry (e, or found by fingerprint) and status.
func (v *storeView) item(s Stored, e *Entry, now time.Time) Item {
	if e == nil {
		e = v.recorded[sha256.Sum256(s.Cert.Raw)]
	}
	it := Item{Stored: s, Entry: e}
	switch {
	case it.Entry != nil && it.Entry.CA == "": // recorded self-signed
		it.CA = s.Name
	case it.Entry != nil:
		it.CA = it.Entry.CA
	default:
		if iss := v.issuers.issuer(s.Cert); iss != nil {
			it.CA = iss.Name
			if iss.Name == "" { // self-signed
				it.CA = s.Name
			}
		}
	}
	it.Status = StatusAt(s.Cert, it.Entry, now)
	if it.Status == StatusRevoked {
		return it
	}
	if it.CA != s.Name {
		if up := v.below[it.CA]; up.revoked {
			it.Status = StatusIssuerRevoked
			return it
		} else if up.damaged != nil {
			it.Status, it.Problem = StatusUnknown, up.damaged
		}
	}
	if it.Entry != nil && it.Entry.Damaged != nil {
		it.Status, it.Problem = StatusUnknown, it.Entry.Damaged
	}
	return it
}
