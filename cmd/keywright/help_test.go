package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// Every command's help ends with one to three examples (a leaf command has
// its own), lists its own flags only, and names the global flags once in
// a closing line; keywright --help lists each global flag once.
func TestEveryCommandHelpTeaches(t *testing.T) {
	parser := wholeTree(t)
	globals := parser.Model.Node.Flags
	flagRow := func(f *kong.Flag) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^\s+(-\w, )?--` + regexp.QuoteMeta(f.Name) + `(=\S*)?\s`)
	}
	_, top, _ := runInProcess(t, "", nil, "--help")
	for _, f := range globals {
		if n := len(flagRow(f).FindAllString(top, -1)); n != 1 {
			t.Errorf("keywright --help lists --%s %d times, want once", f.Name, n)
		}
	}
	for _, path := range commandPaths(parser.Model.Node, nil) {
		name := strings.Join(path, " ")
		code, out, errOut := runInProcess(t, "", nil, append(path, "--help")...)
		if code != 0 || errOut != "" {
			t.Errorf("%s --help: exit %d, stderr %q", name, code, errOut)
			continue
		}
		ex := exampleLines(out)
		if len(ex) < 1 || len(ex) > 3 {
			t.Errorf("%s --help shows %d examples, want 1 to 3:\n%s", name, len(ex), out)
		}
		node := findNode(parser.Model.Node, path)
		if leaf := len(node.Children) == 0; leaf && len(examplesFor(nodePath(node))) == 0 {
			t.Errorf("%s has no examples of its own (help_examples.go)", name)
		}
		for _, f := range globals {
			if flagRow(f).MatchString(out) {
				t.Errorf("%s --help lists the global flag --%s:\n%s", name, f.Name, out)
			}
		}
		if !strings.Contains(out, "\nGlobal flags: --help --store=DIR ") {
			t.Errorf("%s --help does not name the global flags:\n%s", name, out)
		}
	}
}

// exampleLines are the lines under "Examples:" in a help text.
func exampleLines(help string) []string {
	_, ex, ok := strings.Cut(help, "\nExamples:\n")
	if !ok {
		return nil
	}
	var lines []string
	for _, l := range strings.Split(ex, "\n") {
		if !strings.HasPrefix(l, "  keywright ") {
			break
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	return lines
}

// Every example is a real command line: kong parses it (flags, enum values,
// required flags and arguments) into the command it illustrates, or one
// below it for a group's example.
func TestExamplesParse(t *testing.T) {
	parser := wholeTree(t)
	paths := append([][]string{nil}, commandPaths(parser.Model.Node, nil)...)
	for _, path := range paths {
		name := strings.Join(path, " ")
		for _, ex := range examples(findNode(parser.Model.Node, path)) {
			args := exampleArgs(t, ex)
			code, _, errOut := parseExample(t, args)
			if code != 0 {
				t.Errorf("example of %q: %q: %s", name, ex, errOut)
				continue
			}
			got := strings.Join(commandWords(t, args), " ")
			if got != name && !strings.HasPrefix(got, name+" ") && name != "" {
				t.Errorf("example of %q: %q runs %q", name, ex, got)
			}
		}
	}
}

// exampleArgs are the arguments of an example: its words after
// "keywright", quotes removed, up to a comment, > or |.
func exampleArgs(t *testing.T, ex string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	quote, inWord := rune(0), false
	for _, r := range ex + " " {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ':
			if inWord {
				words = append(words, cur.String())
			}
			cur.Reset()
			inWord = false
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	for i, w := range words {
		if w == "#" || w == ">" || w == "|" {
			words = words[:i]
			break
		}
	}
	if len(words) < 2 || words[0] != "keywright" {
		t.Fatalf("example %q does not run keywright", ex)
	}
	return words[1:]
}

// parseExample parses args as the binary does (the pruned model) and runs
// nothing: 0, or 2 and the message.
func parseExample(t *testing.T, args []string) (int, string, string) {
	t.Helper()
	p := parseOnly(t, args, false)
	if p.err != "" || p.exit > 0 {
		return 2, "", p.err + p.stderr
	}
	return 0, p.stdout, ""
}

// commandWords are the command names args select.
func commandWords(t *testing.T, args []string) []string {
	t.Helper()
	var words []string
	for _, w := range strings.Fields(parseOnly(t, args, false).command) {
		if !strings.HasPrefix(w, "<") {
			words = append(words, w)
		}
	}
	return words
}

// A mistyped command or flag gets the nearest one.
func TestMistypesSuggest(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"ky"}, `did you mean one of "key"`},
		{[]string{"key", "new", "x", "--tpye", "rsa"}, `did you mean "--type"`},
		{[]string{"completon", "bash"}, `did you mean "completion"`},
		{[]string{"ca", "sing"}, `did you mean "sign"`},
	} {
		code, _, errOut := runInProcess(t, "", nil, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("keywright %s: exit %d, stderr %q; want 2 and %s", strings.Join(tt.args, " "), code, errOut, tt.want)
		}
	}
}
