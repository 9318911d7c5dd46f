package main

import "strings"

// examplesFor are one to three real command lines for the command at path
// (its command names: "ca init"; "" is keywright itself), an optional comment
// after "  # ". help_test.go checks that every command has some and that
// kong parses each into the command it illustrates. Groups of commands
// ("ca", "ssh") show the first example of their commands (help.go).
func examplesFor(path string) []string {
	switch first, _, _ := strings.Cut(path, " "); first {
	case "ca":
		return caExamples(path)
	case "ssh", "completion", "man":
		return sshExamples(path)
	}
	switch path {
	case "":
		return []string{
			"keywright issue web --san web.example.test  # key and certificate, from a local CA made on first use",
			"keywright list --expiring 30d",
			"keywright verify web --host web.example.test",
		}
	case "key new":
		return []string{
			"keywright key new web  # ECDSA P-256",
			"keywright key new db --type rsa --bits 4096",
			"keywright key new ca --curve p384 --passout env:CA_PASS  # encrypted",
		}
	case "key pub":
		return []string{"keywright key pub web", "keywright key pub web --ssh  # one OpenSSH line"}
	case "key passwd":
		return []string{
			"keywright key passwd web --passout file:/run/secrets/web  # add or change a passphrase",
			"keywright key passwd web --passin env:OLD --no-passphrase  # remove it",
		}
	case "inspect":
		return []string{"keywright inspect web", "keywright inspect web.csr", "keywright --json inspect web"}
	case "csr new":
		return []string{
			"keywright csr new web --cn web.example --san www.web.example --san 10.0.0.1",
			"keywright csr new api --san api.example --type rsa --bits 2048 --encrypt",
			"keywright csr new web  # on a terminal: asks, then prints the same command line",
		}
	case "cert self-sign":
		return []string{
			"keywright cert self-sign web  # web.crt from web.key",
			"keywright cert self-sign dev --cn localhost --san 127.0.0.1 --san ::1 --days 30",
		}
	case "issue":
		return []string{
			"keywright issue web --san web.example.test --san 10.0.0.5",
			"keywright issue api --ca int --profile server-client --days 90",
		}
	case "renew":
		return []string{"keywright renew web  # same CA, subject, SANs and profile; a new key", "keywright renew --expiring 30d"}
	case "batch":
		return []string{
			"keywright batch fleet.yaml  # issue what is missing, skip what is there",
			"keywright batch fleet.yaml --dry-run",
			"keywright batch hosts.csv --renew-within 30d --passout env:KEY_PW --ca-passin env:CA_PW",
		}
	case "verify":
		return []string{"keywright verify web --host web.example.test", "keywright verify web.pem --ca root"}
	case "list":
		return []string{"keywright list", "keywright list --expiring 30d  # exit 3 when something does"}
	case "export p12":
		return []string{"keywright export p12 web", "keywright export p12 web --legacy  # for old Windows, macOS and Java"}
	case "store check":
		return []string{"keywright store check", "keywright store check --fix"}
	}
	return nil
}

// caExamples are examplesFor's for the ca commands.
func caExamples(path string) []string {
	switch path {
	case "ca init":
		return []string{
			`keywright ca init root --cn "Example Root" --org Example`,
			"keywright ca init int --parent root --permit-dns example.test --permit-ip 10.0.0.0/8",
		}
	case "ca sign":
		return []string{"keywright ca sign app.csr --ca int --profile server-client --days 30"}
	case "ca revoke":
		return []string{"keywright ca revoke web --ca int --reason key-compromise"}
	case "ca crl":
		return []string{"keywright ca crl int  # int.crl"}
	case "ca log":
		return []string{"keywright ca log int", "keywright ca log int --json  # one event per line"}
	case "ca trust install":
		return []string{
			"keywright ca trust install  # the store's only root: system, Firefox/Chrome, Java",
			"keywright ca trust install root --in system,nss",
		}
	case "ca trust uninstall":
		return []string{"keywright ca trust uninstall", "keywright ca trust uninstall root --in java"}
	case "ca trust status":
		return []string{"keywright ca trust status  # exit 3 when the root is not trusted somewhere", "keywright --json ca trust status root"}
	}
	return nil
}

// sshExamples are examplesFor's for the ssh commands, and for completion
// and man.
func sshExamples(path string) []string {
	switch path {
	case "ssh keygen":
		return []string{
			"keywright ssh keygen alice  # Ed25519: ssh/alice and ssh/alice.pub",
			"keywright ssh keygen ci --type ecdsa --bits 384 --comment ci@build --passout env:PW",
		}
	case "ssh authorized-key":
		return []string{"keywright ssh authorized-key alice --restrict --from 10.0.0.0/8 --command uptime --expires 30d"}
	case "ssh authorized-keys add":
		return []string{"keywright ssh authorized-keys add ~/.ssh/authorized_keys alice --no-pty"}
	case "ssh authorized-keys remove":
		return []string{"keywright ssh authorized-keys remove ~/.ssh/authorized_keys alice  # or SHA256:... or a file"}
	case "ssh authorized-keys list":
		return []string{"keywright ssh authorized-keys list ~/.ssh/authorized_keys", "keywright --json ssh authorized-keys list ~/.ssh/authorized_keys"}
	case "ssh fingerprint":
		return []string{"keywright ssh fingerprint alice", "keywright ssh fingerprint ~/.ssh/authorized_keys"}
	case "ssh ca init":
		return []string{"keywright ssh ca init users --passout env:CA_PW"}
	case "ssh sign":
		return []string{
			"keywright ssh sign alice --ca users --identity alice@corp --principal alice --days 7",
			"keywright ssh sign web.pub --ca hosts --identity web --principal web.example.com --host",
		}
	case "ssh install":
		return []string{
			"keywright ssh install alice deploy@web.example.com:2222 --identity ops --restrict",
			"keywright ssh install alice web1 web2 --hosts fleet.txt --jobs 16  # many servers, Host aliases",
			"keywright ssh install alice root@10.0.0.5 --password-file pw.txt  # the first key, by password",
		}
	case "ssh uninstall":
		return []string{"keywright ssh uninstall alice --hosts fleet.txt", "keywright ssh uninstall SHA256:... web1 web2"}
	case "ssh rotate":
		return []string{"keywright ssh rotate alice alice-2027 --hosts fleet.txt  # new key in, proven, old key out"}
	case "completion":
		return []string{
			"keywright completion bash  # in ~/.bashrc: source <(keywright completion bash)",
			"keywright completion fish > ~/.config/fish/completions/keywright.fish",
		}
	case "man":
		return []string{"keywright man > keywright.1", "keywright man | man -l -  # read it now"}
	}
	return nil
}
