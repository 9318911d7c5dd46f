package ca

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
)

// serialBytes random bytes make a serial: 128 bits from the CSPRNG (BR 7.1
// asks for 64; EJBCA's 63-bit serials forced mass revocation).
const serialBytes = 16

// NewSerial returns a serial number: a 0x01 byte followed by 128 random bits,
// so it is always positive, always 129 bits long and encodes as a 17-octet DER
// INTEGER (RFC 5280 §4.1.2.2 allows up to 20). A nil r means crypto/rand.
func NewSerial(r io.Reader) (*big.Int, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, serialBytes+1)
	b[0] = 0x01
	if _, err := io.ReadFull(r, b[1:]); err != nil {
		return nil, fmt.Errorf("ca: serial number: %w", err)
	}
	return new(big.Int).SetBytes(b), nil
}

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
		return nil, fmt.Errorf("ca: %q is not a serial number (hex, at most 20 octets)", s)
	}
	return n, nil
}
