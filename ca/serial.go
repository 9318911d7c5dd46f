package ca

import (
	"encoding/hex"
	"math/big"
)

// Serial numbers come from csr.RandomSerial (one generator for self-signed
// and CA-issued certificates); a CA also checks them against its record
// (freshSerial, resignIfUsed).

// FormatSerial is the form serials take in records and messages: lower-case
// hex of the big-endian bytes (an even number of digits), as `openssl x509
// -serial` prints it, without colons.
func FormatSerial(n *big.Int) string { return hex.EncodeToString(n.Bytes()) }

// ParseSerial reads a serial in hex, with or without colons or 0x.
func ParseSerial(s string) (*big.Int, error) {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			clean = append(clean, s[i])
		}
	}
	t := string(clean)
	if len(t) > 2 && (t[:2] == "0x" || t[:2] == "0X") {
		t = t[2:]
	}
	n, ok := new(big.Int).SetString(t, 16)
	if !ok || n.Sign() <= 0 || len(t) > 40 {
		return nil, errorf("%q is not a serial number (hex, at most 20 octets)", s)
	}
	return n, nil
}
