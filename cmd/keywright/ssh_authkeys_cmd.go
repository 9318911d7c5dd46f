package main

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/sshkeys"
	"github.com/keywright/keywright/store"
)

// authKeyFlags are the authorized_keys options of `ssh authorized-key`,
// `ssh authorized-keys add` and `ssh install` (sshd(8) AUTHORIZED_KEYS FILE FORMAT).
type authKeyFlags struct {
	From              []string `help:"from=: client host patterns or CIDRs, comma-separated." placeholder:"PATTERNS,..." type:"option"`
	Command           string   `help:"command=: force this command." placeholder:"CMD" type:"option"`
	Restrict          bool     `help:"restrict: no forwarding, no pty, no ~/.ssh/rc."`
	Expires           string   `help:"expiry-time=: YYYY-MM-DD, RFC 3339, YYYYMMDD[HHMM[SS]][Z] or a duration from now such as 30d; in the future." placeholder:"DATE" type:"option"`
	NoPortForwarding  bool     `name:"no-port-forwarding" help:"no-port-forwarding."`
	NoAgentForwarding bool     `name:"no-agent-forwarding" help:"no-agent-forwarding."`
	NoPTY             bool     `name:"no-pty" help:"no-pty."`
	NoX11Forwarding   bool     `name:"no-x11-forwarding" help:"no-X11-forwarding."`
	NoUserRC          bool     `name:"no-user-rc" help:"no-user-rc."`
	PermitOpen        []string `name:"permit-open" help:"permitopen=: allow -L forwarding to HOST:PORT (repeatable)." placeholder:"HOST:PORT,..." type:"option"`
	PermitListen      []string `name:"permit-listen" help:"permitlisten=: allow -R listening on [HOST:]PORT (repeatable)." placeholder:"[HOST:]PORT,..." type:"option"`
	Principals        []string `help:"principals=: accepted certificate principals, comma-separated (with --cert-authority)." placeholder:"P,..." type:"option"`
	CertAuthority     bool     `name:"cert-authority" help:"cert-authority: trust certificates signed by this key."`
	Environment       []string `help:"environment=: set NAME=VALUE (repeatable; needs PermitUserEnvironment on the server)." sep:"none" placeholder:"K=V"`
	Tunnel            string   `help:"tunnel=: force this tun device number." placeholder:"N" type:"option"`
	Comment           string   `help:"Comment at the end of the line (default: the key's own comment)."`
}

// errEmptyOption: an option given empty would be left out of the line or
// certificate, and with it the restriction the flag was given for
// (--command "$CMD" with CMD unset would allow a shell).
var errEmptyOption = newError("empty: an empty value would drop the option, and the restriction it adds; leave the flag out for none")

// optionMapper reads the flags of authorized_keys options and of SSH
// certificates' critical options (type:"option"):
// an empty value is refused (exit 2), never taken as the flag not given.
func optionMapper() kong.MapperFunc {
	return func(ctx *kong.DecodeContext, target reflect.Value) error {
		s, err := popValue(ctx)
		if err != nil {
			return err
		}
		switch {
		case s == "":
			return errEmptyOption
		case target.Kind() == reflect.String:
			target.SetString(s)
			return nil
		}
		// a list: repeatable, comma-separated; sshkeys refuses an empty item
		for _, item := range strings.Split(s, ",") {
			target.Set(reflect.Append(target, reflect.ValueOf(item)))
		}
		return nil
	}
}

func (f *authKeyFlags) options(e *Env) (sshkeys.Options, error) {
	o := sshkeys.Options{
		Restrict: f.Restrict, CertAuthority: f.CertAuthority, Command: f.Command, From: f.From,
		NoPortForwarding: f.NoPortForwarding, NoAgentForwarding: f.NoAgentForwarding, NoPTY: f.NoPTY,
		NoX11Forwarding: f.NoX11Forwarding, NoUserRC: f.NoUserRC, PermitOpen: f.PermitOpen,
		PermitListen: f.PermitListen, Principals: f.Principals, Environment: f.Environment, Tunnel: f.Tunnel,
	}
	for flag, v := range map[string]string{"--command": f.Command, "--comment": f.Comment, "--tunnel": f.Tunnel} {
		if err := checkNoNewline(flag, v); err != nil {
			return o, err
		}
	}
	if f.Expires != "" {
		t, err := expiresFlag(f.Expires, e.Now())
		if err != nil {
			return o, err
		}
		o.Expires = t
	}
	if _, err := o.List(); err != nil {
		return o, &usageError{err}
	}
	return o, nil
}

// entryFor checks the flags (first: nothing is read if they are wrong),
// loads the public key ref stands for and builds its line, with --comment
// or the key's own comment.
func (f *authKeyFlags) entryFor(e *Env, ref, passin string) (*sshkeys.Entry, *sshkeys.PublicKey, error) {
	opts, err := f.options(e)
	if err != nil {
		return nil, nil, err
	}
	k, _, err := loadSSHPublicKey(e, ref, passin)
	if err != nil {
		return nil, nil, err
	}
	comment := f.Comment
	if comment == "" {
		comment = k.Comment
	}
	if len(opts.Environment) > 0 {
		e.UI.Warnf("environment= is ignored unless the server sets PermitUserEnvironment")
	}
	entry, err := sshkeys.NewEntry(k.Key, opts, comment)
	return entry, k, err
}

// SSHAuthorizedKeyCmd is `ssh authorized-key NAME|PUBFILE`.
type SSHAuthorizedKeyCmd struct {
	Key          string `arg:"" name:"name-or-pubfile" help:"SSH key NAME, store key NAME, or a public or private key file." completion-predictor:"ssh"`
	authKeyFlags `embed:""`
	Passin       string `help:"Passphrase source for an encrypted private key." placeholder:"SRC" type:"source"`
}

func (c *SSHAuthorizedKeyCmd) Run(e *Env) error {
	entry, _, err := c.entryFor(e, c.Key, c.Passin)
	if err != nil {
		return err
	}
	line, err := entry.Marshal()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.Stdout, line)
	return err
}

// SSHAuthorizedKeysCmd groups the authorized_keys file edits.
type SSHAuthorizedKeysCmd struct {
	Add    SSHAKAddCmd    `cmd:"" help:"Add a key (or update its options) in an authorized_keys file."`
	Remove SSHAKRemoveCmd `cmd:"" help:"Remove a key, by key or SHA256 fingerprint, from an authorized_keys file."`
	List   SSHAKListCmd   `cmd:"" help:"List the keys of an authorized_keys file."`
}

// editAuthorizedKeys edits FILE in place (sshkeys.EditFile: under the
// store's lock, so parallel edits all land); a missing file is an empty one
// when create is true. Invalid lines are kept and warned about, once.
func editAuthorizedKeys(e *Env, path string, create bool, edit func(*sshkeys.AuthorizedKeys) (bool, error)) error {
	if path == "-" {
		return usagef("authorized-keys add and remove edit a file in place; give a path, not '-'")
	}
	var invalid []sshkeys.LineError
	err := sshkeys.EditFile(path, create, func(f *sshkeys.AuthorizedKeys) (bool, error) {
		invalid = f.Invalid()
		return edit(f)
	})
	for _, bad := range invalid {
		e.UI.Warnf("%s:%d: %v (sshd skips this line; kept as it is)", path, bad.Line, bad.Err)
	}
	return err
}

// SSHAKAddCmd is `ssh authorized-keys add FILE KEY`.
type SSHAKAddCmd struct {
	File         string `arg:"" help:"The authorized_keys file (created 0600 if missing)."`
	Key          string `arg:"" help:"SSH key NAME, store key NAME, or a public or private key file." completion-predictor:"ssh"`
	authKeyFlags `embed:""`
	Passin       string `help:"Passphrase source for an encrypted private key." placeholder:"SRC" type:"source"`
}

func (c *SSHAKAddCmd) Run(e *Env) error {
	entry, k, err := c.entryFor(e, c.Key, c.Passin)
	if err != nil {
		return err
	}
	var change sshkeys.Change
	var line int
	err = editAuthorizedKeys(e, c.File, true, func(f *sshkeys.AuthorizedKeys) (bool, error) {
		var err error
		change, line, err = f.Add(entry)
		return change != sshkeys.Unchanged, err
	})
	if err != nil {
		return err
	}
	fp := sshkeys.Fingerprint(k.Key)
	e.Result().add("file", c.File).add("change", change.String()).add("line", line).add("ssh_sha256", fp)
	if change == sshkeys.Unchanged {
		e.UI.Infof("%s: key %s already there (line %d); nothing to do", c.File, fp, line)
		return nil
	}
	e.UI.Infof("%s: %s key %s (line %d)", c.File, change, fp, line)
	return nil
}

// SSHAKRemoveCmd is `ssh authorized-keys remove FILE KEY|FINGERPRINT`.
type SSHAKRemoveCmd struct {
	File   string `arg:"" help:"The authorized_keys file."`
	Key    string `arg:"" name:"key-or-fingerprint" help:"SSH key NAME, key file, or SHA256:... fingerprint." completion-predictor:"ssh"`
	Passin string `help:"Passphrase source for an encrypted private key." placeholder:"SRC" type:"source"`
}

func (c *SSHAKRemoveCmd) Run(e *Env) error {
	match, err := keyMatcher(e, c.Key, c.Passin)
	if err != nil {
		return err
	}
	var removed []int
	err = editAuthorizedKeys(e, c.File, false, func(f *sshkeys.AuthorizedKeys) (bool, error) {
		removed = f.Remove(match)
		return len(removed) > 0, nil
	})
	if err != nil {
		return err
	}
	e.Result().add("file", c.File).add("removed_lines", removed)
	if len(removed) == 0 {
		e.UI.Infof("%s: no such key; nothing to do", c.File)
		return nil
	}
	e.UI.Infof("%s: removed %d line(s): %s", c.File, len(removed), joinInts(removed))
	return nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// SSHAKListCmd is `ssh authorized-keys list FILE`.
type SSHAKListCmd struct {
	File string `arg:"" help:"The authorized_keys file ('-' for stdin)."`
}

type akListEntry struct {
	Line        int      `json:"line"`
	Type        string   `json:"ssh_type"`
	KeyType     string   `json:"key_type"`
	Bits        int      `json:"key_size"`
	Fingerprint string   `json:"ssh_sha256"`
	Comment     string   `json:"comment"`
	Options     []string `json:"options"`
}

type akInvalid struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

func (c *SSHAKListCmd) Run(e *Env) error {
	data, err := store.ReadFile(c.File, e.Stdin)
	if err != nil {
		return err
	}
	f := sshkeys.ParseAuthorizedKeys(data)
	entries := []akListEntry{}
	for _, le := range f.Entries() {
		bits, label := keyBitsAndLabel(le.Key)
		opts := []string{}
		for _, o := range le.Options {
			if o.HasValue {
				opts = append(opts, o.Name+`="`+strings.ReplaceAll(o.Value, `"`, `\"`)+`"`)
			} else {
				opts = append(opts, o.Name)
			}
		}
		entries = append(entries, akListEntry{le.Line, le.Key.Type(), sshKeyType(label), bits, sshkeys.Fingerprint(le.Key), le.Comment, opts})
	}
	invalid := []akInvalid{}
	for _, bad := range f.Invalid() {
		invalid = append(invalid, akInvalid{bad.Line, fault.Text(bad.Err)})
		e.UI.Warnf("%s:%d: %v", displayPath(c.File), bad.Line, bad.Err)
	}
	if e.Globals.JSON {
		return writeJSON(e, map[string]any{"file": displayPath(c.File), "entries": entries, "invalid": invalid})
	}
	for _, le := range entries {
		fmt.Fprintf(e.Stdout, "%d %s %s", le.Line, le.Fingerprint, le.Type)
		if le.Comment != "" {
			fmt.Fprintf(e.Stdout, " %s", le.Comment)
		}
		if len(le.Options) > 0 {
			fmt.Fprintf(e.Stdout, " [%s]", strings.Join(le.Options, ","))
		}
		fmt.Fprintln(e.Stdout)
	}
	return nil
}
