package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/keywright/keywright"
	"github.com/keywright/keywright/internal/interop"
)

// wholeTree is kong's model of every command, as completion and man see it.
func wholeTree(t *testing.T) *kong.Kong {
	t.Helper()
	e := &Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	cli := &CLI{}
	e.Globals = &cli.Globals
	parser, err := newParser(cli, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	return parser
}

// keywright man documents the whole command tree (not the pruned one the
// `man` command line parses with), then the README's sections on the
// store, passphrases, the configuration file, and output and exit codes,
// and every example of the commands' help.
func TestManPage(t *testing.T) {
	code, page, errOut := runInProcess(t, "", nil, "man")
	if code != 0 || errOut != "" {
		t.Fatalf("keywright man: exit %d, stderr %q", code, errOut)
	}
	if !strings.HasPrefix(page, ".TH KEYWRIGHT 1 ") {
		t.Fatalf("not a keywright(1) page: %.80q", page)
	}
	for _, path := range commandPaths(wholeTree(t).Model.Node, nil) {
		if !strings.Contains(page, `\fB`+strings.Join(path, " ")+" ") {
			t.Errorf("the manual page does not describe %q", strings.Join(path, " "))
		}
	}
	ex := allExamples(wholeTree(t).Model.Node)
	if len(ex) < 40 {
		t.Errorf("only %d examples", len(ex))
	}
	for _, e := range ex {
		if !strings.Contains(page, "\n"+strings.ReplaceAll(roffEscape(e), "-", `\-`)+"\n") {
			t.Errorf("the manual page lacks the example %q", e)
		}
	}
	for _, sh := range []string{".SH THE STORE\n", ".SH PASSPHRASES\n", ".SH CONFIGURATION\n", ".SH DURATIONS, TIMES AND DAYS\n", ".SH OUTPUT AND EXIT CODES\n", ".SH EXAMPLES\n"} {
		if !strings.Contains(page, sh) {
			t.Errorf("the manual page has no %q", sh)
		}
	}
}

// The page renders with groff without a warning, and the rendered README
// sections say what the README says: every table row (first cell and
// text) and the start of every paragraph.
func TestManPageRendersWithGroff(t *testing.T) {
	groff := interop.Tool(t, "groff")
	_, page, _ := runInProcess(t, "", nil, "man")
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("groff -man -ww: %v\n%s", err, out)
	}
	// Long lines, no hyphenation, no overstriking: text to search.
	cmd = exec.Command(groff, "-man", "-Tutf8", "-rLL=400n", "-rHY=0", "-P-cbou")
	cmd.Stdin = strings.NewReader(page)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("groff: %v", err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, title := range []string{"The store", "Passphrases", "Configuration", "Durations, times and days", "Output and exit codes"} {
		md, err := readmeSection(keywright.README, title)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range plainPieces(md) {
			if !strings.Contains(text, want) {
				t.Errorf("README %q: %q is not in the rendered manual page", title, want)
			}
		}
	}
}

// plainPieces are texts a rendering of md must contain: the cells of every
// table row and the first words of every paragraph and code block, without
// Markdown.
func plainPieces(md string) []string {
	plain := strings.NewReplacer("`", "", "**", "").Replace
	var pieces []string
	for _, block := range strings.Split(md, "\n\n") {
		block = strings.TrimSpace(block)
		if strings.HasPrefix(block, "|") {
			rows := strings.Split(block, "\n")
			for _, row := range rows[2:] {
				cells := tableCells(row)
				pieces = append(pieces, plain(cells[0]), plain(cells[1]))
			}
			continue
		}
		if strings.HasPrefix(block, "```") {
			block = strings.SplitN(block, "\n", 3)[1] // the first line of code
		}
		words := strings.Fields(plain(strings.TrimPrefix(block, "- "))) // a list item is drawn with a bullet
		pieces = append(pieces, strings.Join(words[:min(8, len(words))], " "))
	}
	return pieces
}

// readmeSection fails for a heading the README does not have, so renaming
// a section breaks the manual page loudly, not silently.
func TestReadmeSectionMissing(t *testing.T) {
	if _, err := readmeSection(keywright.README, "No such section"); err == nil {
		t.Fatal("no error for a missing README section")
	}
	if _, err := readmeSection("# t\n\n```\n## The store\n```\n", "The store"); err == nil {
		t.Fatal("a heading inside a code block was taken for a section")
	}
}

// The Markdown the converter knows renders as meant, whatever it holds:
// lines roff would take for requests, backslashes, characters beyond
// ASCII, lists and code blocks.
func TestMarkdownRoff(t *testing.T) {
	groff := interop.Tool(t, "groff")
	md := "First `--flag` and **bold** \\n — ≤ 2.\n.starts with a dot\n'starts with a quote\n\n" +
		"- one item\n- two `-x`\n\n```sh\nkeywright key new web   # .key\n.not a request\n```\n\n" +
		"| code | meaning | mode |\n|---|---|---|\n| `0` | done | 0600 |\n"
	page := ".TH T 1\n.SH S\n" + markdownRoff(md)
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-rLL=400n", "-rHY=0", "-P-cbou")
	cmd.Stdin = strings.NewReader(page)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("groff: %v\n%s\n%s", err, stderr.String(), page)
	}
	text := string(out)
	for _, want := range []string{"First --flag and bold \\n — ≤ 2. .starts with a dot 'starts with a quote",
		"• one item", "• two -x", "keywright key new web   # .key", ".not a request", "done; mode 0600"} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("rendered text lacks %q:\n%s", want, text)
		}
	}
}

// man and completion print text only: a store others can write, which
// every other command refuses, does not stop them.
func TestManAndCompletionIgnoreTheStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"man"}, {"completion", "bash"}} {
		if code, _, errOut := runInProcess(t, "", nil, append([]string{"--store", dir}, args...)...); code != 0 || errOut != "" {
			t.Errorf("%s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
		}
	}
	if code, _, _ := runInProcess(t, "", nil, "--store", dir, "list"); code == 0 {
		t.Error("list accepted a store others can write: this test shows nothing")
	}
}
