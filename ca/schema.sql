-- The record of a keywright store (README "The record"): the CAs the store
-- knows, every certificate they issued, and the events that happened to them.
-- Portable SQL on purpose: INTEGER columns hold Unix seconds (BIGINT on a
-- server database), TEXT holds names, hex serials and JSON arrays, and no
-- SQLite-only type or function is used, so PostgreSQL could hold the same
-- tables. Schema version 1 (PRAGMA user_version).

CREATE TABLE cas (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,      -- the CA's NAME in the store
	cert_file   TEXT NOT NULL,             -- NAME.crt, relative to the store
	sha256      TEXT NOT NULL,             -- of the CA certificate's DER
	subject     TEXT NOT NULL,
	ski         TEXT NOT NULL,             -- subject key id, hex
	crl_number  INTEGER NOT NULL DEFAULT 0 -- the last CRL number used
);

CREATE TABLE certificates (
	id          INTEGER PRIMARY KEY,
	ca_id       INTEGER REFERENCES cas (id), -- NULL: self-signed, no CA
	serial      TEXT NOT NULL,             -- lower-case hex, as FormatSerial
	name        TEXT NOT NULL,             -- NAME of the file (file without extension)
	file        TEXT NOT NULL,             -- relative to the store when inside it
	subject     TEXT NOT NULL,
	sans        TEXT NOT NULL,             -- JSON array of "kind:value"
	not_before  INTEGER NOT NULL,
	not_after   INTEGER NOT NULL,
	profile     TEXT NOT NULL,
	sha256      TEXT NOT NULL,             -- of the certificate's DER
	issued_at   INTEGER NOT NULL,
	renews      TEXT,                      -- the serial this one renewed
	revoked_at  INTEGER,
	reason      TEXT,
	UNIQUE (ca_id, serial)
);
CREATE INDEX certificates_by_name ON certificates (name);
CREATE INDEX certificates_by_not_after ON certificates (not_after);
CREATE INDEX certificates_by_sha256 ON certificates (sha256);

CREATE TABLE events (
	id          INTEGER PRIMARY KEY,       -- the order things happened in
	ca_id       INTEGER NOT NULL REFERENCES cas (id),
	kind        TEXT NOT NULL CHECK (kind IN ('issued', 'revoked', 'crl')),
	at          INTEGER NOT NULL,
	serial      TEXT,                      -- issued, revoked
	reason      TEXT,                      -- revoked
	crl_number  INTEGER,                   -- crl
	next_update INTEGER                    -- crl
);
CREATE INDEX events_by_ca ON events (ca_id, id);

CREATE TABLE pending (
	file        TEXT PRIMARY KEY,          -- a staged file, .keywright-pending-*
	target      TEXT NOT NULL,             -- where it goes
	force       INTEGER NOT NULL           -- 1: replaces the target
);                                         -- rows live while a command places its files

CREATE TABLE imports (
	file        TEXT PRIMARY KEY,          -- a JSON Lines record imported once
	ca_id       INTEGER NOT NULL REFERENCES cas (id),
	events      INTEGER NOT NULL
);
