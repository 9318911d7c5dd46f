package ca

// The friendlyName of a PKCS#12 file's bags (PKCS#9 friendlyName, RFC 7292
// 4.2): what keytool shows as the entry's alias and pk12util and openssl
// as its friendly name or nickname. go-pkcs12 v0.7.4 writes none and has
// no way to (SSLMate/go-pkcs12 issue 34), so nameBags names the bags of the
// file it encoded: the key bag and the certificate bag of the leaf (the two
// with a localKeyId), as openssl pkcs12 -export -name does. The encrypted
// certificate SafeContents is decrypted and encrypted again with the same
// algorithm and parameters (its first ciphertext is never written out),
// and the MAC is computed again over the new contents.

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"hash"

	"github.com/keywright/keywright/keygen"
)

var (
	oidDataContent   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidFriendlyName  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidPBESHA3DES    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
)

// p12Hashes are the digests of MACs, by OID (PBES2's PBKDF2 is keygen's).
var p12Hashes = map[string]func() hash.Hash{
	"1.3.14.3.2.26":          sha1.New,   // SHA-1
	"2.16.840.1.101.3.4.2.1": sha256.New, // SHA-256
	"2.16.840.1.101.3.4.2.3": sha512.New, // SHA-512
}

type p12PFX struct {
	Version  int
	AuthSafe p12ContentInfo
	MacData  p12MacData `asn1:"optional"`
}

type p12ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type p12EncryptedData struct {
	Version int
	Info    struct {
		ContentType asn1.ObjectIdentifier
		Algorithm   pkix.AlgorithmIdentifier
		Content     []byte `asn1:"tag:0,optional"`
	}
}

type p12SafeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue     `asn1:"tag:0,explicit"`
	Attributes []p12BagAttribute `asn1:"set,optional"`
}

type p12BagAttribute struct {
	ID     asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

type p12MacData struct {
	Mac struct {
		Algorithm pkix.AlgorithmIdentifier
		Digest    []byte
	}
	Salt       []byte
	Iterations int `asn1:"optional,default:1"`
}

var errP12Shape = newError("pkcs12: naming the bags: not the file go-pkcs12 writes")

// nameBags gives the key bag and the leaf's certificate bag of der the
// friendlyName name, and returns the file with its MAC computed again.
func nameBags(der []byte, password, name string) ([]byte, error) {
	var pfx p12PFX
	if rest, err := asn1.Unmarshal(der, &pfx); err != nil || len(rest) > 0 || !pfx.AuthSafe.ContentType.Equal(oidDataContent) {
		return nil, errP12Shape
	}
	var authSafe []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, errP12Shape
	}
	var safes []p12ContentInfo
	if _, err := asn1.Unmarshal(authSafe, &safes); err != nil {
		return nil, errP12Shape
	}
	attr, err := friendlyNameAttribute(name)
	if err != nil {
		return nil, err
	}
	for i := range safes {
		if err := nameSafe(&safes[i], password, attr); err != nil {
			return nil, err
		}
	}
	if authSafe, err = asn1.Marshal(safes); err != nil {
		return nil, err
	}
	if pfx.AuthSafe.Content, err = explicitOctets(authSafe); err != nil {
		return nil, err
	}
	if pfx.MacData.Mac.Digest, err = p12MAC(pfx.MacData, authSafe, password); err != nil {
		return nil, err
	}
	return asn1.Marshal(pfx)
}

// friendlyNameAttribute is the bag attribute friendlyName: a SET of one
// BMPString.
func friendlyNameAttribute(name string) (p12BagAttribute, error) {
	bmp, err := bmpString(name)
	if err != nil {
		return p12BagAttribute{}, err
	}
	value, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagBMPString, Bytes: bmp})
	if err != nil {
		return p12BagAttribute{}, err
	}
	return p12BagAttribute{ID: oidFriendlyName, Values: asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: value}}, nil
}

// nameSafe names the bags of one SafeContents, plain or encrypted.
func nameSafe(ci *p12ContentInfo, password string, attr p12BagAttribute) error {
	switch {
	case ci.ContentType.Equal(oidDataContent):
		var contents []byte
		if _, err := asn1.Unmarshal(ci.Content.Bytes, &contents); err != nil {
			return errP12Shape
		}
		named, err := nameSafeContents(contents, attr)
		if err != nil {
			return err
		}
		ci.Content, err = explicitOctets(named)
		return err
	case ci.ContentType.Equal(oidEncryptedData):
		var ed p12EncryptedData
		if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
			return errP12Shape
		}
		block, iv, err := p12Cipher(ed.Info.Algorithm, password)
		if err != nil {
			return err
		}
		plain, err := cbcDecrypt(block, iv, ed.Info.Content)
		if err != nil {
			return err
		}
		named, err := nameSafeContents(plain, attr)
		if err != nil {
			return err
		}
		ed.Info.Content = cbcEncrypt(block, iv, named)
		der, err := asn1.Marshal(ed)
		ci.Content = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}
		return err
	}
	return errP12Shape
}

// nameSafeContents adds attr to every bag with a localKeyId.
func nameSafeContents(der []byte, attr p12BagAttribute) ([]byte, error) {
	var bags []p12SafeBag
	if _, err := asn1.Unmarshal(der, &bags); err != nil {
		return nil, errP12Shape
	}
	for i, b := range bags {
		for _, a := range b.Attributes {
			if a.ID.Equal(oidLocalKeyID) {
				bags[i].Attributes = append(bags[i].Attributes, attr)
				break
			}
		}
	}
	return asn1.Marshal(bags)
}

// explicitOctets is [0] EXPLICIT OCTET STRING b.
func explicitOctets(b []byte) (asn1.RawValue, error) {
	der, err := asn1.Marshal(b)
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}, err
}

// p12Cipher is the block cipher and IV of a SafeContents' encryption:
// PKCS#12 PBE with 3DES (LegacyDES) or PBES2 with PBKDF2 and AES-CBC
// (Modern2023).
func p12Cipher(alg pkix.AlgorithmIdentifier, password string) (cipher.Block, []byte, error) {
	switch {
	case alg.Algorithm.Equal(oidPBESHA3DES):
		var params struct {
			Salt       []byte
			Iterations int
		}
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &params); err != nil {
			return nil, nil, errP12Shape
		}
		pw, err := bmpPassword(password)
		if err != nil {
			return nil, nil, err
		}
		key := pkcs12KDF(sha1.New, 1, params.Salt, pw, params.Iterations, 24)
		block, err := des.NewTripleDESCipher(key)
		return block, pkcs12KDF(sha1.New, 2, params.Salt, pw, params.Iterations, 8), err
	case alg.Algorithm.Equal(oidPBES2):
		// RFC 8018 3: the password of PBES2 is UTF-8, as go-pkcs12 uses it.
		return keygen.PBES2Cipher(alg, []byte(password))
	}
	return nil, nil, errorf("pkcs12: naming the bags: unknown encryption %s", alg.Algorithm)
}

// p12MAC is the MAC of authSafe with the algorithm, salt and iterations of
// m: HMAC keyed by the PKCS#12 KDF (ID 3) of the password.
func p12MAC(m p12MacData, authSafe []byte, password string) ([]byte, error) {
	h := p12Hashes[m.Mac.Algorithm.Algorithm.String()]
	if h == nil {
		return nil, errorf("pkcs12: naming the bags: unknown MAC %s", m.Mac.Algorithm.Algorithm)
	}
	pw, err := bmpPassword(password)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(h, pkcs12KDF(h, 3, m.Salt, pw, m.Iterations, h().Size()))
	mac.Write(authSafe)
	return mac.Sum(nil), nil
}

// pkcs12KDF derives n bytes for purpose id (1 key, 2 IV, 3 MAC key) from
// a BMPString password and salt (RFC 7292 appendix B.2).
func pkcs12KDF(h func() hash.Hash, id byte, salt, password []byte, iterations, n int) []byte {
	v := h().BlockSize()
	fill := func(b []byte) []byte {
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	var in []byte
	if len(salt) > 0 {
		in = append(in, fill(salt)...)
	}
	if len(password) > 0 {
		in = append(in, fill(password)...)
	}
	d := bytes.Repeat([]byte{id}, v)
	var out []byte
	for len(out) < n {
		a := append(bytes.Clone(d), in...)
		for range iterations {
			s := h()
			s.Write(a)
			a = s.Sum(nil)
		}
		out = append(out, a...)
		b := fill(a)[:v]
		for j := 0; j < len(in); j += v { // I_j = (I_j + B + 1) mod 2^(8v)
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(in[j+k]) + int(b[k]) + carry
				in[j+k], carry = byte(sum), sum>>8
			}
		}
	}
	return out[:n]
}

// bmpString is s in UCS-2, big-endian, as BMPString holds it.
func bmpString(s string) ([]byte, error) {
	var out []byte
	for _, r := range s {
		if r > 0xffff {
			return nil, errorf("pkcs12: %q: a character outside the Basic Multilingual Plane", s)
		}
		out = append(out, byte(r>>8), byte(r))
	}
	return out, nil
}

// bmpPassword is a password as the PKCS#12 KDF takes it: a BMPString with
// a terminating zero.
func bmpPassword(password string) ([]byte, error) {
	b, err := bmpString(password)
	return append(b, 0, 0), err
}

func cbcDecrypt(block cipher.Block, iv, data []byte) ([]byte, error) {
	size := block.BlockSize()
	if len(data) == 0 || len(data)%size != 0 || len(iv) != size {
		return nil, errP12Shape
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > size || !bytes.Equal(plain[len(plain)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errP12Shape
	}
	return plain[:len(plain)-pad], nil
}

func cbcEncrypt(block cipher.Block, iv, plain []byte) []byte {
	size := block.BlockSize()
	pad := size - len(plain)%size
	data := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(data, data)
	return data
}
