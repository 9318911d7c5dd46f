// Package ca owns keywright's local certificate authority: creating root and
// intermediate CAs (path length, name constraints), the signing policy and
// profiles every issued certificate follows (README "Certificate authority"), serial numbers unique
// per CA (drawn by csr.RandomSerial, checked against the record), the
// record of issued certificates with revocation status and events (an
// SQLite database per store: db.go, schema.sql, record*.go; README "The
// record"), CRLs, what a renewal keeps of the certificate it renews
// (renew.go), group commits for batch (group.go), and the lock that makes
// concurrent signing safe.
//
// It leaves out what other packages own: SAN and subject parsing and CSR
// parsing (package csr), key generation and PEM (package keygen), and how
// bytes reach the disk (package store). It never prints or prompts: the CA
// key reaches it already decrypted, and warnings come back as values.
//
// A CA in a store is the trio NAME.key, NAME.crt and (for an intermediate)
// NAME.pem, its rows in the store's record.sqlite and its lock file
// .NAME.lock. A JSON Lines NAME.db from before the database is imported
// once (import.go, legacy.go).
package ca
