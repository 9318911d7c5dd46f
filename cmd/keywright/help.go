package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"
)

// helpPrinter is kong's help with two changes. A command's help lists its
// own flags only: the global flags are listed once, in `keywright --help`,
// and named in one closing line. And every help ends with examples
// (examplesFor), real command lines that help_test.go parses.
func helpPrinter(options kong.HelpOptions, ctx *kong.Context) error {
	node := ctx.Selected()
	root := ctx.Model.Node
	if node != nil {
		for _, f := range root.Flags {
			if !f.Hidden {
				f.Hidden = true
				defer func() { f.Hidden = false }()
			}
		}
	}
	if err := kong.DefaultHelpPrinter(options, ctx); err != nil {
		return err
	}
	if node == nil {
		writeExamples(ctx.Stdout, examples(root))
	} else {
		writeExamples(ctx.Stdout, examples(node))
	}
	if node != nil {
		var names []string
		for _, f := range root.Flags {
			if f.Hidden && f.IsBool() {
				names = append(names, "--"+f.Name)
			} else if f.Hidden {
				names = append(names, "--"+f.Name+"="+f.FormatPlaceHolder())
			}
		}
		fmt.Fprintf(ctx.Stdout, "\nGlobal flags: %s (see \"keywright --help\").\n", strings.Join(names, " "))
	}
	return nil
}

// examples are the examples of the command node: its own, or for a group
// of commands, the first example of each of its first three.
func examples(node *kong.Node) []string {
	if ex := examplesFor(nodePath(node)); len(ex) > 0 {
		return ex
	}
	var ex []string
	for _, child := range node.Children {
		if child.Type == kong.CommandNode && len(ex) < 3 {
			if first := examples(child); len(first) > 0 {
				ex = append(ex, first[0])
			}
		}
	}
	return ex
}

// nodePath is the command names from the root to node: "ca init"; "" for
// the root.
func nodePath(node *kong.Node) string {
	var names []string
	for n := node; n != nil && n.Parent != nil; n = n.Parent {
		if n.Type == kong.CommandNode {
			names = append([]string{n.Name}, names...)
		}
	}
	return strings.Join(names, " ")
}

// writeExamples writes "Examples:" and one command line each, comments
// (after "  # ") aligned.
func writeExamples(w io.Writer, ex []string) {
	if len(ex) == 0 {
		return
	}
	width := 0
	for _, e := range ex {
		cmd, _, _ := strings.Cut(e, "  # ")
		width = max(width, len(cmd))
	}
	fmt.Fprintln(w, "\nExamples:")
	for _, e := range ex {
		cmd, comment, ok := strings.Cut(e, "  # ")
		if ok {
			fmt.Fprintf(w, "  %-*s  # %s\n", width, cmd, comment)
		} else {
			fmt.Fprintf(w, "  %s\n", cmd)
		}
	}
}
