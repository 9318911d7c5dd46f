package ca

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"

	"github.com/keywright/keywright/store"
)

// CANames are the NAMEs of the store's CAs whose certificate is in place,
// sorted, for shell completion. They come from the record's list of CAs
// (README "The record"), which is opened read-only: nothing is created,
// imported, migrated or finished, and no lock is waited for. A store
// without a record is looked through as KnownCAs does (its *.crt parsed).
func CANames(ctx context.Context, dir string) ([]string, error) {
	if !ExistsDB(dir) {
		all, _ := ScanDir(dir)
		var names []string
		for _, s := range all {
			if s.Cert.IsCA {
				names = append(names, s.Name)
			}
		}
		return names, nil
	}
	db, err := openReadOnly(dir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	known, err := db.CAs(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, k := range known {
		if store.Exists(k.CertPath) {
			names = append(names, k.Name)
		}
	}
	return names, nil
}

// openReadOnly opens the record of dir with SQLite's mode=ro: a write
// fails, and a missing file is not created.
func openReadOnly(dir string) (*DB, error) {
	path := filepath.Join(dir, DBFile)
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, dbErr(path, err)
	}
	uri := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "mode=ro&_pragma=busy_timeout(0)"}).String()
	registerDriver()
	conn, err := sql.Open(driverName, uri)
	if err != nil {
		return nil, dbErr(path, err)
	}
	conn.SetMaxOpenConns(1)
	return &DB{Path: path, dir: dir, sql: conn}, nil
}
