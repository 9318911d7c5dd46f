package keygen

import (
	"errors"
	"strings"
	"testing"
)

// Keys of algorithms and curves keywright refuses (made with openssl 3.0;
// the encrypted one with passphrase "x") are reported as refused, with the
// reason, and not as malformed or, once decrypted, as a wrong passphrase.
var (
	secp256k1SEC1 = `-----BEGIN EC PRIVATE KEY-----
MHQCAQEEICuOnCCiC3kCK5x58h99NIe4cA1+CelvQl3II/ETd5XyoAcGBSuBBAAK
oUQDQgAEvboBTLVAz9xZdlecPCAJSoFxRjWoXxldW2oGgJjSNmpKUl17zFcCrITp
Q/ZcNHilfNm9qJFJwCgCFL75MCSsnQ==
-----END EC PRIVATE KEY-----
`
	secp256k1PKCS8 = `-----BEGIN PRIVATE KEY-----
MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQgK46cIKILeQIrnHnyH300
h7hwDX4J6W9CXcgj8RN3lfKhRANCAAS9ugFMtUDP3Fl2V5w8IAlKgXFGNahfGV1b
agaAmNI2akpSXXvMVwKshOlD9lw0eKV82b2okUnAKAIUvvkwJKyd
-----END PRIVATE KEY-----
`
	ed448PKCS8 = `-----BEGIN PRIVATE KEY-----
MEcCAQAwBQYDK2VxBDsEOV+HntFbztN8FNbhcYc8fPZinOhLDHmNCPFD0CgXg++w
OTBmyT65QC0oras6dREu8zGrFqlL+uNgyw==
-----END PRIVATE KEY-----
`
	dsaPKCS8 = `-----BEGIN PRIVATE KEY-----
MIICXAIBADCCAjUGByqGSM44BAEwggIoAoIBAQDiMQvDRSwtbTyrqfmBZJxMtCvG
4Rs4wLZ9E9EpZp77+Jwd4iwZdjrBtiqREutW0vq+x+aDQfBo8baXKzZPZvQ1XcB3
npAe9cKcGO+hfTv3tqd64WJK/S4Wnb/jCkIhBh9NLmu4m8dvQ5+UGQIFJbUD9emz
S191jrm/t2y4/bWct+M339NraEC3ft4DgqtjABnz/2FRCxH2RBRVJpXR7ppsawZi
SMZUOJAz0KzcR22nw9uiiHduj9HG6BT/VJ28Gw4qO/pKp8vHxVG3qJ8Al43ZNb/q
KhyMBwl1WcgMFu76gOHHI4Kuu4Yfrd/NMTRAiwEMM+w9fEeAPepRxLmsKABjAh0A
hBVHjd2HG+8CyuI5OGVSIQhor6pv/JRacn699QKCAQBmL+s8OjRze1sHaWa286p+
y0FBc5LMbLtqffPzbolx6y9nMzrlGjhAcCul2xvQYVJh6Oyl6SZnZicYjE7o0Dgy
J+XUkH8+e/H72oOCT40ueAGBkBcKjjmIEfl4rah6v/McCkofDtFbFJK2wNhIXDPt
8fBA0FRxlTlYyhI0Cmw6p4E5CzSKwmHO/QEDtWIcM6WKeUxdPqbExQconQwVsx8E
GpFRwD5Nhc8gfVc9ry+342FeW/XUNVpeAYJAG0k6+17sAMYoPPUDylLR3HYW0nk2
TEhjLh2iJXDu0aziLugnlnF5NjgX6KVBJ/y7Y8H7fjx925l42eKbrGqrDR7L4SVL
BB4CHEu47mIIOwfPaSRrXAv/c9tQdh9LEJuVrcAMr1c=
-----END PRIVATE KEY-----
`
	dsaTraditional = `-----BEGIN DSA PRIVATE KEY-----
MIIDTgIBAAKCAQEA4jELw0UsLW08q6n5gWScTLQrxuEbOMC2fRPRKWae+/icHeIs
GXY6wbYqkRLrVtL6vsfmg0HwaPG2lys2T2b0NV3Ad56QHvXCnBjvoX0797aneuFi
Sv0uFp2/4wpCIQYfTS5ruJvHb0OflBkCBSW1A/Xps0tfdY65v7dsuP21nLfjN9/T
a2hAt37eA4KrYwAZ8/9hUQsR9kQUVSaV0e6abGsGYkjGVDiQM9Cs3Edtp8Pbooh3
bo/RxugU/1SdvBsOKjv6SqfLx8VRt6ifAJeN2TW/6iocjAcJdVnIDBbu+oDhxyOC
rruGH63fzTE0QIsBDDPsPXxHgD3qUcS5rCgAYwIdAIQVR43dhxvvAsriOThlUiEI
aK+qb/yUWnJ+vfUCggEAZi/rPDo0c3tbB2lmtvOqfstBQXOSzGy7an3z826Jcesv
ZzM65Ro4QHArpdsb0GFSYejspekmZ2YnGIxO6NA4Mifl1JB/Pnvx+9qDgk+NLngB
gZAXCo45iBH5eK2oer/zHApKHw7RWxSStsDYSFwz7fHwQNBUcZU5WMoSNApsOqeB
OQs0isJhzv0BA7ViHDOlinlMXT6mxMUHKJ0MFbMfBBqRUcA+TYXPIH1XPa8vt+Nh
Xlv11DVaXgGCQBtJOvte7ADGKDz1A8pS0dx2FtJ5NkxIYy4doiVw7tGs4i7oJ5Zx
eTY4F+ilQSf8u2PB+348fduZeNnim6xqqw0ey+ElSwKCAQEAwRe6DCrQwIEdaUfy
8jS2rxjBR4yaF8e8IHaum/RSblaA/NqhfKGLz0gaE2/Y5cYb+gw7oFzBPSF5c4Mh
PHblipp5Ddgf74PHKUdbfTb9mGcdpPIM/KrAQEPabO0r22vrjQUkCupUKE7BfurZ
WPkJ9khhYxYzFfKwHgncbMD0x7BmFfqGKovHMDinvbNPnAeNcL3lZwGUH+8aZs9o
eYKxfjiMBBkbE0IY5jmnwjHh8k6HB8XMo23iMOe1pnIYRo5MaDDM6J2wh74RsQDE
xwc18YjJ/tQoOi+nR0ckMo9LVvHVhkrCNvNK3cnAl/ufyTnAA+Dzw1Om8+m9Zrm0
5f9fmwIcS7juYgg7B89pJGtcC/9z21B2H0sQm5WtwAyvVw==
-----END DSA PRIVATE KEY-----
`
	secp256k1Encrypted = `-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhaFAwLoKiObQICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEPIdxLE7IjpcbKk1qqHd7zIEgZDd
4TwvQ/WUERkURtZBfsLSeGfUtfD30tG60fbLgXeJ0d+c8/8U/Sh+KX3QjNyP8WOG
fbL+3FVVdB7AUTdSMUbjMyswdgekiZDuy/u1saT8YvOb5GIscOUZ6X6gIxizVYuv
+pdIn2Ld9CE9MI25pJEQFjoD8gp3HLZ0azJ65ehgqHFgqL67i/8lST1mJsOlpNc=
-----END ENCRYPTED PRIVATE KEY-----
`
)

func TestParsePEMRefusedKeys(t *testing.T) {
	pass := func(p string) PassphraseFunc { return func() ([]byte, error) { return []byte(p), nil } }
	tests := []struct {
		name, pem, pass string
		want            error
		wantMsg         string
	}{
		{"secp256k1 SEC1", secp256k1SEC1, "", ErrUnsupported, "ecdsa curve secp256k1: only P-256, P-384 and P-521 are read"},
		{"secp256k1 PKCS8", secp256k1PKCS8, "", ErrUnsupported, "ecdsa curve secp256k1"},
		{"secp256k1 encrypted", secp256k1Encrypted, "x", ErrUnsupported, "ecdsa curve secp256k1"},
		{"secp256k1 encrypted, wrong passphrase", secp256k1Encrypted, "y", ErrWrongPassphrase, ""},
		{"Ed448", ed448PKCS8, "", ErrUnsupported, "Ed448 keys are not supported"},
		{"DSA PKCS8", dsaPKCS8, "", ErrUnsupported, "DSA keys are refused"},
		{"DSA traditional", dsaTraditional, "", ErrUnsupported, "DSA keys are refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePEM([]byte(tt.pem), pass(tt.pass))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("got %v, want %v containing %q", err, tt.want, tt.wantMsg)
			}
		})
	}
}
