-- Schema version 2: the SSH CAs of the store (ssh ca init), so that no
-- other command replaces one's key pair (README "SSH").

CREATE TABLE ssh_cas (
	file        TEXT PRIMARY KEY,          -- the CA's private key, relative to the store when inside it
	fingerprint TEXT NOT NULL,             -- SHA256:... of its public key, as ssh-keygen -l
	created_at  INTEGER NOT NULL
);
