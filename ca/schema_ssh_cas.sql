-- The SSH CAs of the store (ssh ca init), so that no other command replaces
-- one's key pair (README "SSH"). Made when the first SSH CA is noted; a
-- record without it knows none (and stays schema version 1).

CREATE TABLE IF NOT EXISTS ssh_cas (
	fingerprint TEXT PRIMARY KEY,          -- SHA256:... of the CA's public key, as ssh-keygen -l
	file        TEXT NOT NULL,             -- its private key when noted, relative to the store when inside it
	created_at  INTEGER NOT NULL
);
