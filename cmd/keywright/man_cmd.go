package main

import (
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	mangokong "github.com/alecthomas/mango-kong"
	"github.com/muesli/roff"

	"github.com/keywright/keywright"
)

// ManCmd is `man`: keywright(1) in roff, made when asked from the whole
// command tree (mango-kong), with README sections after the commands
// (man_roff.go converts their Markdown) and every command's examples.
type ManCmd struct{}

func (c *ManCmd) Run(e *Env) error {
	page, err := manPage(e)
	if err != nil {
		return err
	}
	_, err = io.WriteString(e.Stdout, page)
	return err
}

// manPage is the whole manual page.
func manPage(e *Env) (string, error) {
	parser, err := newParser(&CLI{}, e, nil) // the whole tree, not the pruned one
	if err != nil {
		return "", err
	}
	var b strings.Builder
	intro, err := readmeIntro(keywright.README)
	if err != nil {
		return "", err
	}
	body := mangokong.NewManPage(1, parser.Model).WithLongDescription(intro).Build(roff.NewDocument())
	_, body, _ = strings.Cut(body, "\n") // mango's .TH: replaced below
	info, _ := debug.ReadBuildInfo()
	v := strings.TrimPrefix(versionString(version, info), "keywright ")
	b.WriteString(`.TH KEYWRIGHT 1 "` + manDate(info) + `" "keywright ` + roffQuoted(v) + `" "User Commands"` + "\n")
	b.WriteString(roffText(body))
	// The README sections the page carries, by heading (README "Install").
	for _, title := range []string{"The store", "Passphrases", "Configuration", "Durations, times and days", "Output and exit codes"} {
		md, err := readmeSection(keywright.README, title)
		if err != nil {
			return "", err
		}
		b.WriteString(".SH " + strings.ToUpper(title) + "\n")
		b.WriteString(markdownRoff(md))
	}
	b.WriteString(".SH EXAMPLES\n.nf\n")
	for _, ex := range allExamples(parser.Model.Node) {
		b.WriteString(roffLine(strings.ReplaceAll(roffEscape(ex), "-", `\-`)) + "\n")
	}
	b.WriteString(".fi\n")
	b.WriteString(".SH SEE ALSO\n.BR openssl (1),\n.BR ssh\\-keygen (1),\n.BR ssh (1)\n")
	return b.String(), nil
}

// allExamples are the examples of keywright --help, then those of every
// command, in the order of the tree.
func allExamples(root *kong.Node) []string {
	ex := examplesFor("")
	_ = kong.Visit(root, func(n kong.Visitable, next kong.Next) error {
		if node, ok := n.(*kong.Node); ok && node.Type == kong.CommandNode {
			ex = append(ex, examplesFor(nodePath(node))...)
		}
		return next(nil)
	})
	return ex
}

// manDate is the date of the commit the binary was built from, so a
// release's page does not change with the day it is printed; else today.
func manDate(info *debug.BuildInfo) string {
	if info != nil {
		for _, s := range info.Settings {
			if t, err := time.Parse(time.RFC3339, s.Value); s.Key == "vcs.time" && err == nil {
				return t.UTC().Format("2006-01-02")
			}
		}
	}
	return time.Now().UTC().Format("2006-01-02")
}
