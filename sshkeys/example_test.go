package sshkeys_test

import (
	"fmt"
	"time"

	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/sshkeys"
)

const examplePub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIL/ak1BdRA050tjIf05AYEpUTH79d+IqiEhpUG1nO4s alice"

func ExampleNewEntry() {
	pk, err := sshkeys.ParsePublic([]byte(examplePub), nil)
	if err != nil {
		panic(err)
	}
	e, err := sshkeys.NewEntry(pk.Key, sshkeys.Options{
		Restrict: true,
		From:     []string{"10.0.0.0/8"},
		Command:  `echo "hello"`,
		Expires:  time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}, pk.Comment)
	if err != nil {
		panic(err)
	}
	line, _ := e.Marshal()
	fmt.Println(line)
	// Output: restrict,from="10.0.0.0/8",command="echo \"hello\"",expiry-time="203001010000Z" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIL/ak1BdRA050tjIf05AYEpUTH79d+IqiEhpUG1nO4s alice
}

func ExampleParseLine() {
	e, err := sshkeys.ParseLine(`no-pty,command="uptime" ` + examplePub)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(e.Options), e.Options[1].Value, e.Comment, sshkeys.Fingerprint(e.Key))
	_, err = sshkeys.ParseLine(`bogus ` + examplePub)
	fmt.Println(err)
	// Output:
	// 2 uptime alice SHA256:sTxn5zpedZQeQ+Raf33Ju823wJKvoZRxcaskgKQStlA
	// sshkeys: invalid authorized_keys line: bad authorized_keys option: unknown option "bogus"
}

func ExampleParseAuthorizedKeys() {
	f := sshkeys.ParseAuthorizedKeys([]byte("# keys\n" + examplePub + "\nnot a key\n"))
	pk, _ := sshkeys.ParsePublic([]byte(examplePub), nil)
	e, _ := sshkeys.NewEntry(pk.Key, sshkeys.Options{NoPTY: true}, "alice")
	change, line, _ := f.Add(e)
	fmt.Println(change, line)
	for _, bad := range f.Invalid() {
		fmt.Println(bad)
	}
	fmt.Print(string(f.Bytes()))
	// Output:
	// updated 2
	// sshkeys: line 3: invalid authorized_keys line: no key found (want [OPTIONS] KEYTYPE BASE64 [COMMENT])
	// # keys
	// no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIL/ak1BdRA050tjIf05AYEpUTH79d+IqiEhpUG1nO4s alice
	// not a key
}

func ExampleSignCert() {
	ca, _ := keygen.Generate(sshkeys.DefaultSpec)
	pk, _ := sshkeys.ParsePublic([]byte(examplePub), nil)
	cert, err := sshkeys.SignCert(ca, sshkeys.CertRequest{
		Key: pk.Key, Identity: "alice@example", Principals: []string{"alice"},
		ValidFor: 24 * time.Hour, Now: time.Now(),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(cert.Type(), cert.KeyId, cert.ValidPrincipals, len(cert.Extensions))
	// Output: ssh-ed25519-cert-v01@openssh.com alice@example [alice] 5
}

func ExampleMarshalPrivate() {
	key, _ := keygen.Generate(sshkeys.DefaultSpec)
	priv, _ := sshkeys.MarshalPrivate(key, "deploy@ci", []byte("passphrase"))
	k, _ := sshkeys.ParsePrivate(priv, func() ([]byte, error) { return []byte("passphrase"), nil })
	fmt.Println(k.Format, k.Encrypted)
	// Output: openssh true
}
