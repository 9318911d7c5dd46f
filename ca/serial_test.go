package ca

import (
	"bytes"
	"math/big"
	"strings"
	"testing"
)

func TestParseSerial(t *testing.T) {
	want, _ := new(big.Int).SetString("1abcdef", 16)
	for _, in := range []string{"1abcdef", "01:ab:cd:ef", "0x1ABCDEF", "01ABCDEF"} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseSerial(in)
			if err != nil || got.Cmp(want) != 0 {
				t.Fatalf("ParseSerial(%q) = %v, %v", in, got, err)
			}
		})
	}
	for _, in := range []string{"", "0", "xyz", "-1", "01" + string(bytes.Repeat([]byte("ff"), 20))} {
		t.Run("bad/"+in, func(t *testing.T) {
			if _, err := ParseSerial(in); err == nil {
				t.Fatalf("ParseSerial(%q) accepted", in)
			}
		})
	}
}

func FuzzParseSerial(f *testing.F) {
	for _, s := range []string{"01ab", "0x01AB", "01:ab:cd", "", "-1", "zz", strings.Repeat("f", 41)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSerial(s)
		if err != nil {
			return
		}
		if n.Sign() <= 0 || len(n.Bytes()) > 20 {
			t.Fatalf("ParseSerial(%q) = %x: not a valid serial", s, n)
		}
		again, err := ParseSerial(FormatSerial(n))
		if err != nil || again.Cmp(n) != 0 {
			t.Fatalf("round trip of %x: %v, %v", n, again, err)
		}
	})
}
