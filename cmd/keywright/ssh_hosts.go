package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/keywright/keywright/sshkeys/remote"
	"github.com/keywright/keywright/store"
)

// hostFlags choose the servers of `ssh install`, `ssh uninstall` and `ssh
// rotate`, and how to reach them (README "SSH": "Keys on many servers").
type hostFlags struct {
	Hosts        string        `help:"File with one target per line ([USER@]HOST[:PORT] or a Host alias; # comments)." placeholder:"FILE"`
	Jobs         int           `help:"Hosts worked on at once." default:"8"`
	Identity     string        `help:"Private key to log in with (ssh/NAME or a file); default: the SSH agent, then ssh_config's IdentityFile." placeholder:"KEY"`
	Passin       string        `help:"Passphrase source for an encrypted --identity key." placeholder:"SRC" type:"source"`
	PasswordFile string        `name:"password-file" help:"Log in with the password on the first line of FILE (else asked once on a terminal when keys are refused)." placeholder:"FILE"`
	SSHConfig    string        `name:"ssh-config" help:"ssh_config file for Host aliases (default ~/.ssh/config and /etc/ssh/ssh_config)." placeholder:"FILE"`
	KnownHosts   string        `name:"known-hosts" help:"known_hosts file to check host keys against (default ~/.ssh/known_hosts of your passwd home, or ssh_config's UserKnownHostsFile)." placeholder:"FILE"`
	AcceptNew    bool          `name:"accept-new" help:"Trust and record a host known_hosts does not list yet (never a changed key)."`
	RemotePath   string        `name:"remote-path" help:"authorized_keys path on the server, relative to the home directory (as ssh-copy-id -t)." default:".ssh/authorized_keys" placeholder:"PATH"`
	Timeout      time.Duration `help:"Give up on a host after this long (connect, log in, edit)." default:"30s"`
}

// localAccount is the passwd entry of the user running keywright: OpenSSH
// takes ~ and the default user name from it, not from $HOME.
func localAccount(e *Env) (name, home string) {
	if u, err := user.Current(); err == nil {
		return u.Username, u.HomeDir
	}
	return e.Getenv("USER"), e.Getenv("HOME")
}

// targets checks the flags and resolves every target (arguments, then the
// hosts file) before any host is touched: one bad line and nothing is done.
func (f *hostFlags) targets(e *Env, args []string) ([]remote.Target, error) {
	if err := positiveDuration("--timeout", f.Timeout); err != nil {
		return nil, err
	}
	if err := jobsFlag(f.Jobs); err != nil {
		return nil, err
	}
	specs, err := f.specs(args)
	if err != nil {
		return nil, err
	}
	name, home := localAccount(e)
	cfg, err := f.sshConfig(home)
	if err != nil {
		return nil, err
	}
	var targets []remote.Target
	for _, s := range specs {
		t, err := cfg.Resolve(s, name)
		if err != nil {
			return nil, &usageError{err}
		}
		targets = append(targets, t)
	}
	return targets, nil
}

// specs are the targets as written, each once.
func (f *hostFlags) specs(args []string) ([]string, error) {
	specs := append([]string(nil), args...)
	if f.Hosts != "" {
		lines, err := remote.ReadHostsFile(f.Hosts)
		var malformed *remote.HostsFileError
		switch {
		case errors.As(err, &malformed):
			return nil, &usageError{err} // a line that is not a target: exit 2
		case err != nil:
			return nil, errorf("--hosts %w", err) // a file that cannot be read: exit 1
		}
		for _, l := range lines {
			specs = append(specs, l.Spec)
		}
	}
	if len(specs) == 0 {
		return nil, usagef("no target: give USER@HOST[:PORT] arguments or --hosts FILE")
	}
	seen := map[string]bool{}
	kept := specs[:0]
	for _, s := range specs {
		if !seen[s] {
			seen[s] = true
			kept = append(kept, s)
		}
	}
	return kept, nil
}

func (f *hostFlags) sshConfig(home string) (*remote.Config, error) {
	if f.SSHConfig != "" {
		cfg, err := remote.LoadConfig(home, []string{f.SSHConfig}, nil)
		if errors.Is(err, remote.ErrSSHConfig) {
			return nil, withHint(err, "give --ssh-config a file keywright reads (Host blocks), or none: --ssh-config /dev/null")
		}
		return cfg, err
	}
	var optional []string
	if home != "" {
		optional = append(optional, filepath.Join(home, ".ssh", "config"))
	}
	cfg, err := remote.LoadConfig(home, nil, append(optional, "/etc/ssh/ssh_config"))
	if err != nil {
		// Some of OpenSSH's directives (Match exec, Match user, ...) are
		// beyond the parser: a target without an alias needs no config.
		return nil, withHint(err, "give the config keywright should read with --ssh-config FILE, or none: --ssh-config /dev/null")
	}
	return cfg, nil
}

// login is how every host of the run is reached and logged in to.
func (f *hostFlags) login(e *Env, targets []remote.Target) (*remote.Login, func(), error) {
	known := f.KnownHosts
	if known == "" {
		_, home := localAccount(e)
		if home == "" {
			return nil, nil, usagef("no home directory to find known_hosts in; give --known-hosts FILE")
		}
		known = filepath.Join(home, ".ssh", "known_hosts")
	}
	auth, closer, err := f.authMethods(e, targets)
	if err != nil {
		return nil, nil, err
	}
	return &remote.Login{
		Auth: auth.forTarget, Methods: auth.describe(), KnownHosts: known,
		AcceptNew: f.AcceptNew, RecordHost: appendKnownHost, Timeout: f.Timeout,
	}, closer, nil
}

// appendKnownHost adds one line ("HOST TYPE KEY") to known_hosts,
// atomically and under the store's lock (store.Update: two hosts recorded
// at once both land), keeping every other byte and the file's mode (a
// missing final newline is added first). A missing directory is made 0700,
// as ssh makes ~/.ssh. A host that another connection of the run recorded
// meanwhile is not added again, and is refused if that was another key:
// one of the two connections did not reach the real server.
func appendKnownHost(path, line string) error {
	if err := store.EnsureDir(filepath.Dir(path)); err != nil {
		return err
	}
	host, key, _ := strings.Cut(line, " ")
	return store.Update(path, 0, func(old []byte, _ bool) ([]byte, error) {
		for l := range strings.Lines(string(old)) {
			f := strings.Fields(l)
			switch {
			case len(f) < 3 || f[0] != host:
			case f[1]+" "+f[2] == key:
				return nil, store.ErrNoChange
			default:
				return nil, errorf("known_hosts %s: %s was recorded meanwhile with another host key (%s): someone may be intercepting the connection", path, host, f[1])
			}
		}
		data := bytes.Clone(old)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
		return append(data, line+"\n"...), nil
	})
}

// hostReport prints each host's line as it finishes ("HOST: installed",
// "HOST: failed: REASON") and, with --json, the document at the end.
type hostReport struct {
	e     *Env
	specs []string
}

func newHostReport(e *Env, targets []remote.Target) *hostReport {
	r := &hostReport{e: e}
	for _, t := range targets {
		r.specs = append(r.specs, t.Spec)
	}
	return r
}

func (r *hostReport) done(i int, o remote.Outcome) {
	if o.NewHost {
		r.e.UI.Infof("%s: recorded host key %s in %s", r.specs[i], o.HostKey, o.KnownHosts)
	}
	if r.e.Globals.JSON {
		return
	}
	if o.Err != nil {
		fmt.Fprintf(r.e.Stdout, "%s: failed: %s\n", r.specs[i], hostProblem(o.Err))
		return
	}
	fmt.Fprintf(r.e.Stdout, "%s: %s\n", r.specs[i], o.Result)
}

type hostJSON struct {
	Target          string `json:"target"`
	Result          string `json:"result"`
	Error           string `json:"error,omitempty"`
	HostKey         string `json:"host_key_sha256,omitempty"`
	HostKeyRecorded bool   `json:"host_key_recorded,omitempty"`
}

// finish prints the JSON document and says whether any host failed (exit 1).
func (r *hostReport) finish(outcomes []remote.Outcome) error {
	failed := 0
	var doc []hostJSON
	for i, o := range outcomes {
		h := hostJSON{Target: r.specs[i], Result: string(o.Result), HostKey: o.HostKey, HostKeyRecorded: o.NewHost}
		if o.Err != nil {
			failed++
			h.Error = hostProblem(o.Err)
		}
		doc = append(doc, h)
	}
	if r.e.Globals.JSON {
		if err := writeJSON(r.e, map[string]any{"hosts": doc}); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &hostsFailed{n: failed, of: len(outcomes)}
	}
	return nil
}

// hostsFailed: some hosts failed (exit 1); each has its line already.
type hostsFailed struct{ n, of int }

func (e *hostsFailed) Error() string { return fmt.Sprintf("%d of %d hosts failed", e.n, e.of) }

// hostProblem is why a host failed, naming --timeout when its time ran out.
func hostProblem(err error) string {
	if errors.Is(err, remote.ErrNoAnswer) {
		return message(err) + " (--timeout)"
	}
	return message(err)
}
