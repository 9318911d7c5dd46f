package main

// The configuration file (README "Configuration"): defaults for flags, in
// $XDG_CONFIG_HOME/keywright/config.yaml (else ~/.config/keywright/config.yaml)
// or the file --config names. It is read once per command, after the
// command line parses and before kong fills the flags it left unset: a
// small kong.Resolver (config_resolve.go) gives those flags the file's
// values. Precedence: a flag on the command line, then its environment
// variable (KEYWRIGHT_STORE), then the file, then the built-in default.
//
// Cheap by design (issue 8, bench/startup.sh): without a file the cost is
// one failed open(2); with one, one small read and a YAML parse. --help
// and --version never read it. Strict as a batch manifest: every problem
// (syntax, an unknown or duplicated key, a value the flag would refuse) is
// a FILE:LINE line, whatever the command, and nothing runs. It holds no
// secrets: there is no key for a passphrase or its source.

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// configName is the file under the configuration directory.
const configName = "keywright/config.yaml"

// configSetting is a key of the file: the flag it is the default of, and
// the commands (kong paths; "" is the global flags) whose flag it sets.
type configSetting struct {
	key, flag string
	cmds      []string
	number    bool               // a whole number (else a string)
	check     func(string) error // nil: any string but the empty one
}

var (
	configKeyCmds     = []string{"key new", "csr new", "issue", "ca init"}
	configSigningCmds = []string{"issue", "ca sign"}
	configLeafCmds    = []string{"issue", "ca sign", "cert self-sign"}
)

// configSettings are the keys of the file, in the order messages list them.
var configSettings = []configSetting{
	{key: "store", flag: "store", cmds: []string{""}},
	{key: "type", flag: "type", cmds: configKeyCmds, check: checkConfigType},
	{key: "bits", flag: "bits", cmds: configKeyCmds, number: true, check: checkConfigBits},
	{key: "curve", flag: "curve", cmds: configKeyCmds, check: checkConfigCurve},
	{key: "org", flag: "org", cmds: []string{"csr new", "ca init"}, check: subjectField(func(s *csr.Subject, v string) { s.Organization = v })},
	{key: "ou", flag: "ou", cmds: []string{"csr new"}, check: subjectField(func(s *csr.Subject, v string) { s.OrganizationalUnit = v })},
	{key: "country", flag: "country", cmds: []string{"csr new"}, check: csr.CheckCountry},
	{key: "state", flag: "state", cmds: []string{"csr new"}, check: subjectField(func(s *csr.Subject, v string) { s.Province = v })},
	{key: "locality", flag: "locality", cmds: []string{"csr new"}, check: subjectField(func(s *csr.Subject, v string) { s.Locality = v })},
	{key: "days", flag: "days", cmds: configLeafCmds, number: true, check: checkConfigDays},
	{key: "ca", flag: "ca", cmds: configSigningCmds, check: store.ValidateName},
	{key: "profile", flag: "profile", cmds: configSigningCmds, check: checkConfigProfile},
}

// configLeafProfiles are the profiles a default may name: those of issue
// (a CA is signed with an explicit --profile ca).
var configLeafProfiles = []string{ca.ProfileServer, ca.ProfileClient, ca.ProfileServerClient, ca.ProfileCodeSigning, ca.ProfileEmail}

// config is the configuration file of one command, and what it set.
type config struct {
	file    string
	values  map[string]configValue // by key, checked
	applied map[string]configValue // by flag name: the flags the file set
}

// configValue is a value of the file, as the flag's text, and its line.
type configValue struct {
	text string
	line int
}

// configError is a configuration file that stops the command before it
// runs (its cause decides the exit code: 2, or 1 for an unreadable file).
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// defaultConfigPath is $XDG_CONFIG_HOME/keywright/config.yaml (an absolute
// XDG_CONFIG_HOME only, as the XDG spec says), else ~/.config/...; "" when
// there is no home directory either.
func defaultConfigPath(e *Env) string {
	if dir := e.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, configName)
	}
	if home := homeDir(e); home != "" {
		return filepath.Join(home, ".config", configName)
	}
	return ""
}

// homeDir is $HOME, else the home directory of the passwd entry.
func homeDir(e *Env) string {
	if home := e.Getenv("HOME"); home != "" {
		return home
	}
	if home := e.Getenv("USERPROFILE"); home != "" && runtime.GOOS == "windows" {
		return home
	}
	if u, err := user.Current(); err == nil {
		return u.HomeDir
	}
	return ""
}

// loadConfig reads file (--config: it must exist) or the default file (it
// may not). Nil when there is no file.
func loadConfig(e *Env, file string) (*config, error) {
	explicit := file != ""
	if !explicit {
		if file = defaultConfigPath(e); file == "" {
			return nil, nil
		}
	}
	if file == "-" {
		return nil, usagef("--config -: give a file (standard input is the command's)")
	}
	if fi, err := os.Stat(file); !explicit && err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		// Read by every command: a FIFO there would hang them all (one
		// named with --config may be a pipe, as <(...) gives).
		return nil, withHint(errorf("%s: not a regular file", file), "keywright reads its defaults from this file (README \"Configuration\"): make it a file, or name another with --config")
	}
	data, err := store.ReadFile(file, nil)
	switch {
	case err == nil:
	case !explicit && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)):
		return nil, nil
	case explicit && errors.Is(err, fs.ErrNotExist):
		return nil, &usageError{withHint(err, "--config names the configuration file; it must exist (README \"Configuration\")")}
	default:
		return nil, withHint(err, "keywright reads its defaults from this file (README \"Configuration\"): make it readable, or name another with --config")
	}
	return parseConfig(displayPath(file), data, homeDir(e))
}

// parseConfig checks the whole file: every problem is a FILE:LINE line.
func parseConfig(file string, data []byte, home string) (*config, error) {
	c := &config{file: file, values: map[string]configValue{}, applied: map[string]configValue{}}
	errs := &manifestError{File: file}
	root := configRoot(errs, data)
	if root == nil {
		return c, usageOrNil(errs.orNil())
	}
	w := yamlWalker{errs: errs}
	configKeys(errs, root, func(s *configSetting, v *yaml.Node) {
		key := s.key
		var text string
		if s.number {
			n := w.number(v, key)
			if n.bad {
				return
			}
			text = strconv.Itoa(n.v)
		} else {
			t := w.text(v, key)
			if t.bad {
				return
			}
			text = t.v
		}
		if err := s.checkValue(text); err != nil {
			errs.addErr(v.Line, key, err)
			return
		}
		if rest, ok := strings.CutPrefix(text, "~/"); ok && key == "store" && home != "" {
			text = filepath.Join(home, rest)
		}
		c.values[key] = configValue{text: text, line: v.Line}
	})
	return c, usageOrNil(errs.orNil())
}

// usageOrNil makes the problems of a file a usage error (exit 2).
func usageOrNil(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err}
}

// configRoot is the file's one mapping; nil for an empty file (no
// settings) or after reporting why it is not one.
func configRoot(errs *manifestError, data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, next yaml.Node
	err := dec.Decode(&doc)
	if err == nil {
		if err = dec.Decode(&next); err == nil {
			errs.addf(next.Line, "a second YAML document: the configuration is one mapping")
			return nil
		} else if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		errs.add(yamlSyntaxProblem(err))
		return nil
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if isNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		errs.addf(root.Line, "want a mapping of settings (org: Example, days: 30, ...), got %s", yamlKind(root))
		return nil
	}
	return root
}

// configKeys calls fn with the setting of each key of root and its value,
// reporting keys that are unknown or given twice.
func configKeys(errs *manifestError, root *yaml.Node, fn func(s *configSetting, v *yaml.Node)) {
	first := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		s := configSettingOf(k)
		switch {
		case s == nil && strings.Contains(k.Value, "pass"):
			errs.addf(k.Line, "unknown key %q: passphrases and their sources are never configured (README \"Passphrases\")", k.Value)
		case s == nil:
			errs.addf(k.Line, "unknown key %q (known: %s)", k.Value, strings.Join(configKeyNames(), ", "))
		case first[s.key] != 0:
			errs.addf(k.Line, "%s: given twice (first on line %d)", s.key, first[s.key])
		default:
			first[s.key] = k.Line
			fn(s, v)
		}
	}
}

// configSettingOf is the setting of key node k; nil if k is not one.
func configSettingOf(k *yaml.Node) *configSetting {
	for i := range configSettings {
		if k.Kind == yaml.ScalarNode && configSettings[i].key == k.Value {
			return &configSettings[i]
		}
	}
	return nil
}

func configKeyNames() []string {
	keys := make([]string, len(configSettings))
	for i, s := range configSettings {
		keys[i] = s.key
	}
	return keys
}

// checkValue refuses what the setting's flag would refuse.
func (s *configSetting) checkValue(v string) error {
	if s.check == nil {
		if v == "" {
			return newError("empty")
		}
		return nil
	}
	err := s.check(v)
	if err == nil {
		return nil
	}
	return newError(fault.Text(err))
}

func checkConfigType(v string) error {
	if v != keygen.ECDSA && v != keygen.RSA && v != keygen.Ed25519 {
		return errorf("%q: use ecdsa, rsa or ed25519", v)
	}
	return nil
}

func checkConfigBits(v string) error {
	n, _ := strconv.Atoi(v)
	_, err := keygen.Spec{Type: keygen.RSA, Bits: n}.Normalize()
	return err
}

func checkConfigCurve(v string) error {
	_, err := keygen.Spec{Type: keygen.ECDSA, Curve: v}.Normalize()
	return err
}

func checkConfigDays(v string) error {
	if n, _ := strconv.Atoi(v); n < 1 || n > ca.MaxLeafDays {
		return errorf("%s: a certificate is valid for 1 to %d days", v, ca.MaxLeafDays)
	}
	return nil
}

func checkConfigProfile(v string) error {
	for _, p := range configLeafProfiles {
		if v == p {
			return nil
		}
	}
	return errorf("%q: use %s (a CA is signed with an explicit --profile ca)", v, strings.Join(configLeafProfiles, ", "))
}

// subjectField checks a subject attribute as csr new checks its flag.
func subjectField(set func(*csr.Subject, string)) func(string) error {
	return func(v string) error {
		if v == "" {
			return newError("empty")
		}
		var s csr.Subject
		set(&s, v)
		_, err := s.Name()
		return err
	}
}
