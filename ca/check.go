package ca

import (
	"context"
	"fmt"
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
		out = append(out, store.Finding{Kind: store.FindingPending, Path: p.File,
			Detail: "recorded for " + p.Target + " but not in place (its writer is running, or the target was made meanwhile)"})
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
	return out, err
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
// every entry that cannot be read completely.
func (v *storeView) missingFiles(ctx context.Context) ([]store.Finding, error) {
	newest := map[string]*Entry{}
	var order []string
	var out []store.Finding
	err := v.db.scanEntries(ctx, true, func(e *Entry) error {
		if e.Damaged != nil {
			out = append(out, store.Finding{Kind: store.FindingRecord, Path: v.db.Path, Detail: fault.Text(e.Damaged)})
		}
		if newest[e.File] == nil {
			order = append(order, e.File)
		}
		newest[e.File] = e
		return nil
	}, "ORDER BY c.id")
	for _, file := range order {
		e := newest[file]
		if p := v.db.PathOf(e); !store.Exists(p) {
			who := "CA " + e.CA
			if e.CA == "" {
				who = "the store (self-signed)"
			}
			out = append(out, store.Finding{Kind: store.FindingMissing, Path: p,
				Detail: fmt.Sprintf("%s recorded serial %s (%s) here, and the file is gone", who, e.Serial, e.Subject)})
		}
	}
	return out, err
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
