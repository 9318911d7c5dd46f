package main

import (
	"reflect"
	"regexp"
	"strings"
)

// Building kong's model of the whole command tree (reflection over every
// command struct, every tag parsed, every help text interpolated) cost more
// than the rest of a short command's start-up together (issue 8). Only the
// commands on the path args name can take part in the parse, so the others
// are left out of the model: reachable returns kong.IgnoreFields patterns
// for the sibling commands at each level of that path.
//
// The walk over args is deliberately conservative, so the parse is the same
// as with the whole tree: it stops at the first token it cannot classify for
// certain (an unknown flag, "--", anything after a flag that might take a
// value) and prunes nothing below that point. With no command named, the
// whole tree is built (help and "expected one of" errors list every
// command), except for `--version` among global flags alone, which needs no
// command at all: its grammar is the global flags. cli_prune_test.go checks
// that help, errors and parsed values are identical to the whole tree's for
// every command path.

// globalBool are the global flags that take no value (Globals, and kong's
// own -h/--help); globalValue those that take the next argument.
var (
	globalBool  = map[string]bool{"--force": true, "--no-input": true, "-q": true, "--quiet": true, "--json": true, "--version": true, "--help": true, "-h": true}
	globalValue = map[string]bool{"--store": true, "--config": true}
)

// reachable returns the grammar to parse args with (cli, or only its global
// flags) and the patterns of the command fields args cannot reach; nil args
// give cli and no patterns, the whole tree.
func reachable(cli *CLI, args []string) (grammar any, ignore []string) {
	t := reflect.TypeFor[CLI]()
	version, help, named := false, false, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "-") && !named && globalValue[a]:
			i++ // its value, whatever it looks like
			continue
		case strings.HasPrefix(a, "-") && !named && globalBool[a]:
			version = version || a == "--version"
			help = help || a == "--help" || a == "-h"
			continue
		case strings.HasPrefix(a, "-"):
			return cli, ignore // "--", an unknown flag, or a command's flag
		}
		cmds := commandFields(t)
		field, ok := cmds[a]
		if !ok || t.Name() == "" {
			return cli, ignore // a positional argument, or not a command here
		}
		var others []string
		for name, f := range cmds {
			if name != a {
				others = append(others, regexp.QuoteMeta(f.Name))
			}
		}
		if len(others) > 0 {
			ignore = append(ignore, "^"+regexp.QuoteMeta(t.Name())+`\.(?:`+strings.Join(others, "|")+`)$`)
		}
		t, named = field.Type, true
	}
	if !named && version && !help {
		// kong prints the version before it looks for a command; the
		// pointer is not replaced (only cmd and embed fields are).
		return &struct{ *Globals }{&cli.Globals}, nil
	}
	return cli, ignore
}

// commandFields are the `cmd` fields of struct type t by command name. A
// field whose name kong would derive in a way this does not reproduce (more
// than one word, no name tag) is left out, so it is never pruned by mistake:
// a token naming it stops the walk. So does every command of a struct where
// a field of an embedded struct has a command's Go name: kong.IgnoreFields
// matches fields by Go name, and would drop both.
func commandFields(t reflect.Type) map[string]reflect.StructField {
	cmds := map[string]reflect.StructField{}
	if t.Kind() != reflect.Struct {
		return cmds
	}
	embedded := map[string]bool{}
	embeddedNames(t, embedded, false)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if _, ok := f.Tag.Lookup("cmd"); !ok {
			continue
		}
		if embedded[f.Name] {
			return map[string]reflect.StructField{}
		}
		name := f.Tag.Get("name")
		if name == "" && oneWord(f.Name) {
			name = strings.ToLower(f.Name)
		}
		if name != "" {
			cmds[name] = f
		}
	}
	return cmds
}

// oneWord reports whether kong's default name for a field is its name in
// lower case: one capital followed by lower-case letters only.
func oneWord(s string) bool {
	for i, r := range s {
		if (i == 0) != (r >= 'A' && r <= 'Z') || i > 0 && (r < 'a' || r > 'z') {
			return false
		}
	}
	return s != ""
}

// embeddedNames adds to names the fields of the structs t embeds (at any
// depth), and t's own fields when inside is true.
func embeddedNames(t reflect.Type, names map[string]bool, inside bool) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if inside {
			names[f.Name] = true
		}
		if _, embed := f.Tag.Lookup("embed"); f.Anonymous || embed {
			embeddedNames(f.Type, names, true)
		}
	}
}
