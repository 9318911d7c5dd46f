package ca

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/store"
)

// CheckRecord compares the store's record with its certificate files
// (`store check`): the database's own integrity, recorded certificates
// whose file is gone, certificates a store CA issued that its record lacks,
// certificates that no longer verify against the CA that recorded them, and
// NAME.pem files that do not start with NAME.crt. It reads every
// certificate once; nothing is changed.
func CheckRecord(ctx context.Context, st *store.Store, now time.Time) ([]store.Finding, error) {
	if !ExistsDB(st.Dir) && !hasLegacy(st.Dir) {
		return nil, nil // no record to compare with (no CA has signed here)
	}
	v, err := newStoreView(ctx, st)
	if err != nil {
		return nil, err
	}
	defer v.db.Close()
	out, err := v.db.integrity(ctx)
	if err != nil {
		return out, err
	}
	missing, err := v.missingFiles(ctx)
	if err != nil {
		return out, err
	}
	out = append(out, missing...)
	// Opening the record finished what it could of a killed command's
	// pending files; what is left could not be placed.
	pending, err := v.db.pendingRows(ctx)
	if err != nil {
		return out, err
	}
	for _, p := range pending {
		if store.WriterAlive(p.File) {
			continue // a write in progress, not a problem: its writer places it
		}
		out = append(out, store.Finding{Kind: store.FindingPending, Path: p.File,
			Detail: "recorded for " + p.Target + " but not in place (the target was made meanwhile)"})
	}
	cas := map[string]*Stored{}
	for _, list := range v.issuers.byKeyID {
		for _, s := range list {
			cas[s.Name] = s
		}
	}
	problems, err := Inventory(ctx, st, now, func(it Item) error {
		out = append(out, checkItem(it, cas[it.CA])...)
		return nil
	})
	for _, p := range problems {
		out = append(out, store.Finding{Kind: store.FindingUnreadable, Detail: fault.Text(p)})
	}
	return confirmed(st.Dir, out), err
}

// confirmed keeps the findings that still hold under the store directory's
// lock. A write in progress (a batch, a renewal) makes a file look missing,
// a pending file look stuck or a chain look stale between its steps, and
// holds that lock until it is done; so what a check finds while others
// write is looked at again, and only what is still wrong is reported. The
// lock is taken only when there is something to confirm, and held only for
// that.
func confirmed(dir string, findings []store.Finding) []store.Finding {
	if !slices.ContainsFunc(findings, transient) {
		return findings
	}
	l, err := store.LockDir(dir)
	if err != nil {
		return findings // cannot confirm: reported as found
	}
	defer l.Unlock()
	return slices.DeleteFunc(findings, func(f store.Finding) bool { return transient(f) && !stillHolds(f) })
}

// transient: a finding a write in progress can cause for a moment.
func transient(f store.Finding) bool {
	switch f.Kind {
	case store.FindingMissing, store.FindingPending:
		return true
	case store.FindingChain:
		return strings.HasSuffix(f.Path, store.Chain.Suffix)
	}
	return false
}

// stillHolds looks at a transient finding again.
func stillHolds(f store.Finding) bool {
	switch f.Kind {
	case store.FindingMissing:
		return !store.Exists(f.Path)
	case store.FindingPending:
		return store.Exists(f.Path) && !store.WriterAlive(f.Path)
	}
	crt := strings.TrimSuffix(f.Path, store.Chain.Suffix) + store.Cert.Suffix
	certs, err := ReadCerts(crt)
	chain, cerr := ReadCerts(f.Path)
	return err != nil || cerr != nil || !chain[0].Equal(certs[0])
}

// integrity runs SQLite's quick_check.
func (db *DB) integrity(ctx context.Context) ([]store.Finding, error) {
	rows, err := db.sql.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return nil, db.err(err)
	}
	defer rows.Close()
	var out []store.Finding
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			return out, db.err(err)
		}
		if msg != "ok" {
			out = append(out, store.Finding{Kind: store.FindingRecord, Path: db.Path, Detail: msg})
		}
	}
	return out, db.err(rows.Err())
}

// missingFiles: the newest entry of each file whose file is gone (an older
// entry of a file that was issued again is history, not a problem), and
// every entry that cannot be read completely. The entries come by NAME
// (its index: no sort), so only the entries of one NAME are held, not the
// record of a fleet.
func (v *storeView) missingFiles(ctx context.Context) ([]store.Finding, error) {
	var out []store.Finding
	var group []*Entry // the entries of one NAME, in the order recorded
	flush := func() {
		for i, e := range group {
			if newestOfFile(group, i) {
				out = append(out, v.missingFile(e)...)
			}
		}
		group = group[:0]
	}
	err := v.db.scanEntries(ctx, true, func(e *Entry) error {
		if e.Damaged != nil {
			out = append(out, store.Finding{Kind: store.FindingRecord, Path: v.db.Path, Detail: fault.Text(e.Damaged)})
		}
		if len(group) > 0 && group[0].Name != e.Name {
			flush()
		}
		group = append(group, e)
		return nil
	}, "ORDER BY c.name, c.id")
	if err == nil {
		flush()
	}
	return out, err
}

// newestOfFile reports whether no entry after group[i] has its file.
func newestOfFile(group []*Entry, i int) bool {
	for _, later := range group[i+1:] {
		if later.File == group[i].File {
			return false
		}
	}
	return true
}

// missingFile is the finding about e when its file is gone.
func (v *storeView) missingFile(e *Entry) []store.Finding {
	p := v.db.PathOf(e)
	if store.Exists(p) {
		return nil
	}
	who := "CA " + e.CA
	if e.CA == "" {
		who = "the store (self-signed)"
	}
	return []store.Finding{{Kind: store.FindingMissing, Path: p,
		Detail: fmt.Sprintf("%s recorded serial %s (%s) here, and the file is gone", who, e.Serial, e.Subject)}}
}

// checkItem checks one certificate file against its record entry and CA.
func checkItem(it Item, issuer *Stored) []store.Finding {
	var out []store.Finding
	switch {
	case it.Entry == nil && it.CA != "" && it.CA != it.Name:
		out = append(out, store.Finding{Kind: store.FindingUnrecorded, Path: it.Path,
			Detail: fmt.Sprintf("signed by CA %s, but not in its record", it.CA)})
	case it.Entry != nil && it.CA != it.Name && (issuer == nil || !issuedBy(it.Cert, issuer.Cert)):
		out = append(out, store.Finding{Kind: store.FindingChain, Path: it.Path,
			Detail: fmt.Sprintf("recorded by CA %s, but does not verify against that CA's certificate in the store", it.Entry.CA)})
	}
	chain := it.Path[:len(it.Path)-len(store.Cert.Suffix)] + store.Chain.Suffix
	if certs, err := ReadCerts(chain); err == nil && !certs[0].Equal(it.Cert) {
		out = append(out, store.Finding{Kind: store.FindingChain, Path: chain,
			Detail: "does not start with the certificate in " + it.Path})
	}
	return out
}
