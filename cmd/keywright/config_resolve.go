package main

// The configuration file as a kong.Resolver (config.go): kong asks it for
// every flag of the parsed command path that the command line left unset.

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/keygen"
)

// readConfig is the BeforeResolve hook (cli.go): it reads the file once
// (kong calls option hooks once per element of the path) and registers it
// as the resolver of this parse.
func (e *Env) readConfig(ctx *kong.Context) error {
	if e.configRead {
		return nil
	}
	e.configRead = true
	file := ""
	for _, p := range ctx.Path {
		if p.Flag != nil && p.Flag.Name == "config" {
			file, _ = ctx.FlagValue(p.Flag).(string)
		}
	}
	c, err := loadConfig(e, file)
	if err != nil {
		return &configError{err}
	}
	if c != nil {
		e.config = c
		ctx.AddResolver(c)
	}
	return nil
}

// fromConfig is the file's value of flag when the file set it in this
// command (not the command line, not the environment).
func (e *Env) fromConfig(flag string) (configValue, bool) {
	if e.config == nil {
		return configValue{}, false
	}
	v, ok := e.config.applied[flag]
	return v, ok
}

// configWhere names where a value of the file is, for messages.
func (e *Env) configWhere(flag string) string {
	v, _ := e.fromConfig(flag)
	return fmt.Sprintf("%s:%d", e.config.file, v.line)
}

// Resolve gives flag the file's value when the setting is one of this
// command's, the flag's environment variable is not set (it comes before
// the file), and the value fits what the command line did set.
func (c *config) Resolve(ctx *kong.Context, parent *kong.Path, flag *kong.Flag) (any, error) {
	cmd := commandOf(parent)
	for _, s := range configSettings {
		if s.flag != flag.Name || !slices.Contains(s.cmds, cmd) {
			continue
		}
		v, ok := c.values[s.key]
		if !ok || envSet(flag.Envs) || !c.applies(ctx, parent, s.key) {
			return nil, nil
		}
		c.applied[flag.Name] = v
		return v.text, nil
	}
	return nil, nil
}

// Validate is part of kong.Resolver; the file was checked when read.
func (c *config) Validate(*kong.Application) error { return nil }

// applies decides the settings that depend on other flags: bits is for an
// RSA key and curve for an ECDSA one (of the type the command line or the
// file asks for); the subject fields give way to a whole --subject; days
// is for a leaf, not for ca sign --profile ca.
func (c *config) applies(ctx *kong.Context, parent *kong.Path, key string) bool {
	switch key {
	case "bits":
		return c.effective(ctx, parent, "type") == keygen.RSA
	case "curve":
		return c.effective(ctx, parent, "type") == keygen.ECDSA
	case "org", "ou", "country", "state", "locality":
		f := flagOf(parent, "subject")
		return f == nil || !given(ctx, f)
	case "days":
		return c.effective(ctx, parent, "profile") != ca.ProfileCA
	}
	return true
}

// effective is the value flag name of parent will have: the command
// line's, else the file's, else its default.
func (c *config) effective(ctx *kong.Context, parent *kong.Path, name string) string {
	f := flagOf(parent, name)
	switch {
	case f == nil:
		return ""
	case given(ctx, f):
		return fmt.Sprint(ctx.FlagValue(f))
	}
	if v, ok := c.values[name]; ok {
		return v.text
	}
	return f.Default
}

// commandOf is the command of a path element as kong names it ("ca
// sign"); "" for the application (the global flags).
func commandOf(p *kong.Path) string {
	var names []string
	for n := p.Command; n != nil && n.Type == kong.CommandNode; n = n.Parent {
		names = append(names, n.Name)
	}
	slices.Reverse(names)
	return strings.Join(names, " ")
}

func flagOf(p *kong.Path, name string) *kong.Flag {
	for _, f := range p.Flags {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// given reports whether the command line set f (a resolver's value is
// not in the path yet while kong resolves).
func given(ctx *kong.Context, f *kong.Flag) bool {
	for _, p := range ctx.Path {
		if p.Flag == f && !p.Resolved {
			return true
		}
	}
	return false
}

// envSet reports whether one of a flag's variables is set, as kong sees
// the environment (os.LookupEnv: set, even empty, beats the file).
func envSet(envs []string) bool {
	for _, name := range envs {
		if _, ok := os.LookupEnv(name); ok {
			return true
		}
	}
	return false
}
