package main

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/alecthomas/kong"
)

// Globals are the flags every command accepts (README).
type Globals struct {
	Store   string           `help:"Store directory." default:"./pki" env:"KEYWRIGHT_STORE" placeholder:"DIR"`
	Config  string           `help:"Configuration file of defaults (default: $XDG_CONFIG_HOME/keywright/config.yaml, if it exists)." placeholder:"FILE" type:"nonempty"`
	Force   bool             `help:"Replace files that exist."`
	NoInput bool             `help:"Never prompt; fail instead."`
	Quiet   bool             `short:"q" help:"Print errors and warnings only."`
	JSON    bool             `help:"Print one JSON document on stdout."`
	Version buildVersionFlag `help:"Print the version and exit."`
}

// CLI is the whole command tree.
type CLI struct {
	Globals

	Key      KeyCmd     `cmd:"" help:"Private keys: new, pub, passwd."`
	Inspect  InspectCmd `cmd:"" help:"Describe a key, request, certificate, chain or SSH key."`
	CSR      CSRCmd     `cmd:"" name:"csr" help:"Certificate requests: new (flags or an interactive prompt)."`
	Cert     CertCmd    `cmd:"" help:"Certificates without a CA: self-sign."`
	Issue    IssueCmd   `cmd:"" help:"Key, request, certificate and chain in one step, signed by a CA."`
	Renew    RenewCmd   `cmd:"" help:"Re-issue certificates of the store: same CA, subject, SANs and profile; a new key."`
	Batch    BatchCmd   `cmd:"" help:"Issue, renew or skip every certificate and SSH key of a YAML or CSV manifest."`
	CA       CACmd      `cmd:"" name:"ca" help:"Certificate authority: init, sign, revoke, crl, trust."`
	Verify   VerifyCmd  `cmd:"" help:"Check a certificate: chain, validity, revocation, key, host name."`
	List     ListCmd    `cmd:"" help:"Every certificate in the store with its CA, serial, expiry and status."`
	Export   ExportCmd  `cmd:"" help:"Export a key and its certificate chain: p12."`
	SSH      SSHCmd     `cmd:"" name:"ssh" help:"SSH keys, authorized_keys, SSH certificates, install on servers."`
	StoreCmd StoreCmd   `cmd:"" name:"store" help:"The store itself: check (and --fix) the record against the files, temporary files, modes."`

	Completion CompletionCmd `cmd:"" help:"Print the shell completion script: bash, zsh or fish."`
	Man        ManCmd        `cmd:"" help:"Print the keywright(1) manual page (roff)."`
}

// exitPanic carries kong's request to exit (after --help or --version) out
// of the parser without ending the process, so run can return a code.
type exitPanic int

// newParser builds the parser for args: the commands args cannot reach are
// left out of the model (cli_prune.go); nil args build the whole tree.
func newParser(cli *CLI, e *Env, args []string) (*kong.Kong, error) {
	opts := []kong.Option{
		kong.Name("keywright"),
		kong.Description("Keys, certificate requests, certificates, a local CA and SSH keys, in one store."),
		kong.Writers(e.Stdout, e.Stderr),
		kong.Exit(func(code int) { panic(exitPanic(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		kong.Help(helpPrinter),
		kong.Bind(e),
		// --timeout and --lock-timeout read the one duration grammar (durations.go)
		kong.TypeMapper(reflect.TypeOf(time.Duration(0)), durationMapper()),
		// --days 010 is 10 days, not 8 (octal): int flags are decimal (durations.go)
		kong.TypeMapper(reflect.TypeOf(0), decimalIntMapper()),
		// Every other string flag and argument: a missing value in
		// keywright's words (popValue).
		kong.TypeMapper(reflect.TypeOf(""), stringMapper()),
		// authorized_keys options are never empty (ssh_authkeys_cmd.go)
		kong.NamedMapper("option", optionMapper()),
		// a passphrase source is never empty (secrets.go)
		kong.NamedMapper("source", sourceMapper()),
		// a flag whose absence means a default is never given empty
		kong.NamedMapper("nonempty", nonEmptyMapper()),
		kong.WithBeforeResolve(e.readConfig), // config.go
	}
	grammar, ignore := reachable(cli, args)
	if len(ignore) > 0 {
		opts = append(opts, kong.IgnoreFields(ignore...))
	}
	return kong.New(grammar, opts...)
}

// afterParse, when set, runs once args parse into a command, before the
// command: main installs the signal handler there.
var afterParse func(*Env)

// run parses args and runs the command, returning the exit code.
func run(args []string, e *Env) (code int) {
	if e.Getenv("COMP_LINE") != "" {
		return completeLine(e) // the shell asks for completions (completion_cmd.go)
	}
	cli := &CLI{}
	e.Globals = &cli.Globals
	e.UI = &UI{Err: e.Stderr}
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(exitPanic)
			if !ok {
				panic(r)
			}
			code = int(c)
			if code != 0 {
				code = exitUsage
			}
		}
	}()
	parser, err := newParser(cli, e, args)
	if err != nil {
		panic(err) // the grammar itself is wrong: a programming error
	}
	ctx, err := parser.Parse(args)
	if err != nil {
		var perr *kong.ParseError
		var cerr *configError
		if errors.As(err, &cerr) {
			err = cerr.err // a configuration file, not the command line
		} else if errors.As(err, &perr) {
			reportParseError(e.Stderr, err, commandPath(perr.Context))
			return exitUsage
		}
		reportError(e.Stderr, err)
		return exitCode(err)
	}
	e.UI.Quiet = cli.Quiet
	if afterParse != nil {
		afterParse(e)
	}
	if err = e.begin(ctx); err == nil {
		err = ctx.Run(&cli.Globals)
	}
	if err == nil && cli.JSON && e.result != nil {
		err = writeJSON(e, e.result)
	}
	if err != nil {
		reportError(e.Stderr, err)
	}
	return exitCode(err)
}

func commandPath(ctx *kong.Context) string {
	if ctx == nil || ctx.Command() == "" {
		return ""
	}
	path := ""
	for _, p := range ctx.Path {
		if p.Command != nil {
			path += p.Command.Name + " "
		}
	}
	return path
}

// popValue takes the value of the flag (or argument) being decoded. kong's
// own words for a missing one name its scanner's tokens ("got \"EOL\"
// (<EOL>)", "(short flag)"), so a value that is not there, or that reads
// as a flag, is refused here, and kong puts the flag's name in front.
func popValue(ctx *kong.DecodeContext) (string, error) {
	t := ctx.Scan.Pop()
	switch {
	case t.IsEOL():
		return "", newError("a value is missing")
	case !t.IsValue():
		return "", errorf("a value is missing (%q reads as a flag; a value that starts with '-' is written --%s=%s)", t.String(), ctx.Value.Name, t.String())
	}
	return fmt.Sprint(t.Value), nil
}

// stringMapper reads a plain string flag or argument (popValue).
func stringMapper() kong.MapperFunc {
	return func(ctx *kong.DecodeContext, target reflect.Value) error {
		s, err := popValue(ctx)
		if err != nil {
			return err
		}
		target.SetString(s)
		return nil
	}
}

// nonEmptyMapper reads a string flag whose absence means a default
// (type:"nonempty": issue --ca, ca init --parent, verify --ca and --host):
// given empty ("$CA" unset) it is refused (exit 2), never taken as not
// given, which would sign with another CA, make a root instead of an
// intermediate, or skip a check.
func nonEmptyMapper() kong.MapperFunc {
	return func(ctx *kong.DecodeContext, target reflect.Value) error {
		s, err := popValue(ctx)
		if err != nil {
			return err
		}
		if s == "" {
			return newError("empty: give a value, or leave the flag out for the default")
		}
		target.SetString(s)
		return nil
	}
}
