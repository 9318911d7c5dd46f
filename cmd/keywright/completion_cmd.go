package main

// Shell completion (README "Install"): `keywright completion SHELL` prints a
// script that makes the shell call keywright itself to complete a command
// line, with COMP_LINE set; run answers those calls before anything else
// (completeLine). kong-completion turns the whole command tree into
// commands, flags and enum values; the predictors below add the NAMEs of
// the store the line names (its --store, else KEYWRIGHT_STORE, else ./pki),
// chosen by each argument's completion-predictor tag. Completion never
// prints an error: a store it cannot read completes nothing, and the shell
// falls back to file names.

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	kongcompletion "github.com/jotaen/kong-completion"
	"github.com/posener/complete"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/store"
)

// CompletionCmd is `completion bash|zsh|fish`.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish."`
}

// The scripts call keywright by name, as the shell finds it on PATH (the
// same binary the completed command line runs), so a script written once,
// as in the release archives, stays right wherever keywright is installed.
const (
	bashCompletion = `# bash completion for keywright. Load it from ~/.bashrc:
#   source <(keywright completion bash)
# or install it as /usr/share/bash-completion/completions/keywright.
complete -o default -o bashdefault -C keywright keywright
`
	zshCompletion = `#compdef keywright
# zsh completion for keywright (bash-style, through bashcompinit). Load it
# from ~/.zshrc, after compinit:
#   source <(keywright completion zsh)
autoload -U +X bashcompinit && bashcompinit
complete -o default -o bashdefault -C keywright keywright
`
	fishCompletion = `# fish completion for keywright. Install it with:
#   keywright completion fish > ~/.config/fish/completions/keywright.fish
function __complete_keywright
    set -lx COMP_LINE (commandline -cp)
    test -z (commandline -ct)
    and set COMP_LINE "$COMP_LINE "
    command keywright
end
complete -f -c keywright -a "(__complete_keywright)"
`
)

func (c *CompletionCmd) Run(e *Env) error {
	script := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}[c.Shell]
	_, err := io.WriteString(e.Stdout, script)
	return err
}

// completeLine answers a shell's completion call (COMP_LINE and COMP_POINT
// in the environment): the candidates for the word under the cursor, one a
// line on stdout. It builds the whole command tree, as help does; nothing
// ever goes to stderr, and a failure completes nothing.
func completeLine(e *Env) (code int) {
	defer func() {
		if recover() != nil {
			code = exitError
		}
	}()
	quiet := *e
	quiet.Stderr = io.Discard
	parser, err := newParser(&CLI{}, &quiet, nil)
	if err != nil {
		return exitError
	}
	preds := map[string]complete.Predictor{}
	for _, kind := range []string{"name", "key", "csr", "cert", "ca", "ssh"} {
		preds[kind] = storePredictor{e: e, kind: kind}
	}
	cmd, err := kongcompletion.Command(parser, kongcompletion.WithPredictors(preds))
	if err != nil {
		return exitError
	}
	c := complete.New(parser.Model.Name, cmd)
	c.Out = e.Stdout
	c.Complete()
	return exitOK
}

// storePredictor completes the NAMEs of one kind of the store.
type storePredictor struct {
	e    *Env
	kind string
}

func (p storePredictor) Predict(a complete.Args) []string {
	dir := completionStore(p.e, strings.Fields(p.e.Getenv("COMP_LINE")+"."))
	switch p.kind {
	case "ca":
		names, _ := ca.CANames(context.Background(), dir)
		return names
	case "ssh":
		var keys []string
		for _, n := range namesIn(filepath.Join(dir, store.SSHPublic.Sub), store.SSHPublic.Suffix) {
			if !strings.HasSuffix(n+store.SSHPublic.Suffix, store.SSHCert.Suffix) {
				keys = append(keys, n) // NAME-cert.pub is NAME's certificate
			}
		}
		return keys
	case "name":
		return namesIn(dir, store.Key.Suffix, store.CSR.Suffix, store.Cert.Suffix)
	}
	suffix := map[string]string{"key": store.Key.Suffix, "csr": store.CSR.Suffix, "cert": store.Cert.Suffix}[p.kind]
	return namesIn(dir, suffix)
}

// completionStore is the store the words of the command line name (the
// last is the one being completed), as a command would take it: the last
// --store (a leading ~/ is the home directory: the shell has not expanded
// it), else KEYWRIGHT_STORE, else the configuration file's store (--config
// or the default file; a file with a problem is passed over), else ./pki.
// The words are the whole line's: the Args a predictor gets start at its
// subcommand, after any global flags.
func completionStore(e *Env, words []string) string {
	flag := func(name string) (v string) {
		for i, w := range words {
			if after, ok := strings.CutPrefix(w, name+"="); ok {
				v = after
			} else if w == name && i+1 < len(words)-1 {
				v = words[i+1] // not the word being completed
			}
		}
		return v
	}
	dir := flag("--store")
	if dir == "" {
		dir = e.Getenv("KEYWRIGHT_STORE")
	}
	if dir == "" {
		if c, err := loadConfig(e, flag("--config")); err == nil && c != nil {
			dir = c.values["store"].text // ~/ expanded already
		}
	}
	if rest, ok := strings.CutPrefix(dir, "~/"); ok {
		if home := homeDir(e); home != "" {
			dir = filepath.Join(home, rest)
		}
	}
	if dir == "" {
		return "./pki"
	}
	return dir
}

// namesIn lists the NAMEs of dir's files with one of the suffixes, sorted
// and without repeats, reading names only (no file is opened or stat'ed).
func namesIn(dir string, suffixes ...string) []string {
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	seen := map[string]bool{}
	for {
		chunk, err := f.Readdirnames(4096)
		for _, n := range chunk {
			for _, s := range suffixes {
				if name, ok := strings.CutSuffix(n, s); ok && store.ValidateName(name) == nil {
					seen[name] = true
				}
			}
		}
		if err != nil { // io.EOF at the end
			break
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
