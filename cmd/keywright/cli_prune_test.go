package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// parsed is everything a parse shows: what kong printed, how it exited, the
// error, and the command and values it selected.
type parsed struct {
	exit           int
	stdout, stderr string
	err, command   string
	values         string
	commands       int // command nodes in the model
}

// parseOnly parses args with the model unreachable(args) prunes, or with
// the whole tree; it runs nothing.
func parseOnly(t *testing.T, args []string, whole bool) (p parsed) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	cli := &CLI{}
	e.Globals = &cli.Globals
	modelArgs := args
	if whole {
		modelArgs = nil
	}
	parser, err := newParser(cli, e, modelArgs)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	p.exit = -1
	p.commands = countCommands(parser.Model.Node)
	func() {
		defer func() {
			if r := recover(); r != nil {
				c, ok := r.(exitPanic)
				if !ok {
					panic(r)
				}
				p.exit = int(c)
			}
		}()
		ctx, err := parser.Parse(args)
		var perr *kong.ParseError
		switch {
		case errors.As(err, &perr):
			p.err, p.command = err.Error(), commandPath(perr.Context)
		case err != nil:
			p.err = err.Error()
		default:
			p.command = ctx.Command()
			p.values = parsedValues(cli.Globals, ctx.Selected().Target.Interface())
		}
	}()
	p.stdout, p.stderr = out.String(), errOut.String()
	return p
}

// parsedValues shows what a parse set, following pointers (an optional
// flag such as batch's --jobs is a *int: its address differs between two
// parses, its value must not).
func parsedValues(vs ...any) string {
	var b strings.Builder
	for _, v := range vs {
		data, err := json.Marshal(v)
		if err != nil {
			data = fmt.Appendf(nil, "%#v", v)
		}
		fmt.Fprintf(&b, "%T%s ", v, data)
	}
	return b.String()
}

func countCommands(n *kong.Node) int {
	c := 0
	for _, child := range n.Children {
		if child.Type == kong.CommandNode {
			c += 1 + countCommands(child)
		}
	}
	return c
}

// commandPaths lists every command path of the whole tree, parents first.
func commandPaths(n *kong.Node, prefix []string) [][]string {
	var paths [][]string
	for _, child := range n.Children {
		if child.Type != kong.CommandNode {
			continue
		}
		p := append(slices.Clone(prefix), child.Name)
		paths = append(paths, p)
		paths = append(paths, commandPaths(child, p)...)
	}
	return paths
}

// variants are command lines around one command path: help, errors, flags
// before and after, a store named like a command, a mistyped last word.
func variants(path []string, flags []string) [][]string {
	last := len(path) - 1
	other := "ssh" // a store named like another command
	if path[0] == other {
		other = "key"
	}
	mistyped := append(slices.Clone(path[:last]), path[last]+"x")
	v := [][]string{
		path, mistyped,
		append(slices.Clone(path), "--help"),
		append(slices.Clone(path), "-h"),
		append([]string{"--help"}, path...),
		append(slices.Clone(path), "--bogus"),
		append(slices.Clone(path), "x", "y", "z"),
		append(slices.Clone(path), "x", "--type", "nope"),
		append(slices.Clone(path), "x", "--version"),
		append([]string{"--version"}, path...),
		append([]string{"-q", "--store", "s", "--json", "--force", "--no-input"}, append(slices.Clone(path), "x")...),
		append([]string{"--store", path[0]}, path...),
		append([]string{"--store", other}, path...),
		append([]string{"--store", "--quiet"}, path...),
		append([]string{"--store=s"}, path...),
		append([]string{"--"}, path...),
		append(slices.Clone(path[:1]), append([]string{"-q"}, path[1:]...)...),
	}
	for _, f := range flags {
		v = append(v, append(slices.Clone(path), "x", f, "1"), append(slices.Clone(path), "x", f+"=2", "--force"))
	}
	return v
}

// The pruned model parses every command line exactly as the whole tree does.
func TestPrunedParseIsTheWholeTreesParse(t *testing.T) {
	var out bytes.Buffer
	e := &Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	cli := &CLI{}
	e.Globals = &cli.Globals
	whole, err := newParser(cli, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := [][]string{{}, {"--version"}, {"-q", "--version", "--store", "s"}, {"--help"}, {"-h", "--version"},
		{"--version", "--help"}, {"--store"}, {"bogus"}, {"-qh"}, {"--store", "--version"}, {"-"}}
	for _, path := range commandPaths(whole.Model.Node, nil) {
		var flags []string
		if node := findNode(whole.Model.Node, path); node != nil {
			for _, f := range node.Flags {
				flags = append(flags, "--"+f.Name)
			}
		}
		lines = append(lines, variants(path, flags)...)
	}
	for _, args := range lines {
		got, want := parseOnly(t, args, false), parseOnly(t, args, true)
		got.commands, want.commands = 0, 0
		if got != want {
			t.Errorf("keywright %s\npruned: %+v\nwhole:  %+v", strings.Join(args, " "), got, want)
		}
	}
	if len(lines) < 300 {
		t.Fatalf("only %d command lines compared", len(lines))
	}
}

func findNode(n *kong.Node, path []string) *kong.Node {
	for _, name := range path {
		var next *kong.Node
		for _, c := range n.Children {
			if c.Name == name {
				next = c
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// The pruning happens: a full command path builds only the commands on it,
// and a bare --version none.
func TestPrunedModelHoldsOnlyThePath(t *testing.T) {
	whole := parseOnly(t, []string{"key", "new", "k"}, true).commands
	if whole < 20 {
		t.Fatalf("the whole tree has %d commands", whole)
	}
	var out bytes.Buffer
	e := &Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	cli := &CLI{}
	e.Globals = &cli.Globals
	parser, err := newParser(cli, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range commandPaths(parser.Model.Node, nil) {
		node := findNode(parser.Model.Node, path)
		if countCommands(node) > 0 {
			continue // not a leaf
		}
		args := append([]string{"-q", "--store", "s"}, append(path, "x")...)
		if got := parseOnly(t, args, false).commands; got != len(path) {
			t.Errorf("keywright %s: the model holds %d commands, want %d", strings.Join(args, " "), got, len(path))
		}
	}
	if got := parseOnly(t, []string{"--version"}, false).commands; got != 0 {
		t.Errorf("keywright --version: the model holds %d commands, want 0", got)
	}
	if got := parseOnly(t, []string{"--help"}, false).commands; got != whole {
		t.Errorf("keywright --help: the model holds %d commands, want all %d", got, whole)
	}
}

// Command names the walk can match: name tags and one-word field names; a
// level where an embedded field has a command's Go name is not pruned.
func TestCommandFields(t *testing.T) {
	type flags struct{ Store string }
	type level struct {
		Key      struct{} `cmd:""`
		SelfSign struct{} `cmd:""`
		AuthKey  struct{} `cmd:"" name:"authorized-key"`
		Flags    flags    `embed:""`
	}
	got := slices.Sorted(maps.Keys(commandFields(reflect.TypeFor[level]())))
	if want := []string{"authorized-key", "key"}; !slices.Equal(got, want) {
		t.Errorf("commands %q, want %q", got, want)
	}
	type shadowed struct {
		flags
		Key   struct{} `cmd:""`
		Store struct{} `cmd:""`
	}
	if got := commandFields(reflect.TypeFor[shadowed]()); len(got) != 0 {
		t.Errorf("a command named like an embedded flag: %v, want none", got)
	}
}
