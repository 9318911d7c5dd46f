package main

import (
	"fmt"
	"strings"
)

// The README is Markdown; a manual page is roff. markdownRoff converts the
// little Markdown the README sections use: paragraphs, `code` and **bold**
// spans, "- " lists, fenced code blocks and tables (a table becomes tagged
// paragraphs: the first column is the tag).

// readmeSection is the body of the README's "## title" section, up to the
// next "## " heading outside a code block.
func readmeSection(readme, title string) (string, error) {
	var body []string
	in, fence := false, false
	for _, line := range strings.Split(readme, "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if !fence && strings.HasPrefix(line, "## ") {
			if in {
				break
			}
			in = strings.TrimSpace(line[3:]) == title
			continue
		}
		if in {
			body = append(body, line)
		}
	}
	if !in {
		return "", errorf("man: README.md has no section %q", title)
	}
	return strings.TrimSpace(strings.Join(body, "\n")) + "\n", nil
}

// readmeIntro is the README's first paragraph, on one line (mango starts a
// paragraph at each line), without Markdown.
func readmeIntro(readme string) (string, error) {
	_, rest, _ := strings.Cut(readme, "\n\n")
	para, _, _ := strings.Cut(strings.TrimSpace(rest), "\n\n")
	if para == "" || strings.HasPrefix(para, "#") {
		return "", errorf("man: README.md does not start with a paragraph after its title")
	}
	return strings.NewReplacer("\n", " ", "`", "", "**", "").Replace(para), nil
}

// markdownRoff converts a README section to roff lines.
func markdownRoff(md string) string {
	var b strings.Builder
	lines := strings.Split(strings.TrimRight(md, "\n"), "\n")
	for i := 0; i < len(lines); {
		line := lines[i]
		switch {
		case strings.TrimSpace(line) == "":
			i++
		case strings.HasPrefix(line, "```"):
			b.WriteString(".PP\n.RS 4\n.nf\n")
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
				b.WriteString(roffLine(roffEscape(lines[i])) + "\n")
			}
			b.WriteString(".fi\n.RE\n")
			i++
		case strings.HasPrefix(line, "|"):
			var rows []string
			for ; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
				rows = append(rows, lines[i])
			}
			writeTable(&b, rows)
		default:
			var para []string
			for ; i < len(lines) && strings.TrimSpace(lines[i]) != "" && !strings.HasPrefix(lines[i], "|") && !strings.HasPrefix(lines[i], "```"); i++ {
				para = append(para, strings.TrimSpace(lines[i]))
			}
			writeParagraph(&b, para)
		}
	}
	return b.String()
}

// writeParagraph writes a paragraph, or a list when its lines start "- ".
func writeParagraph(b *strings.Builder, lines []string) {
	if !strings.HasPrefix(lines[0], "- ") {
		b.WriteString(".PP\n")
	}
	for _, l := range lines {
		if item, ok := strings.CutPrefix(l, "- "); ok {
			b.WriteString(".IP \\(bu 2\n")
			l = item
		}
		b.WriteString(roffLine(inlineRoff(l)) + "\n")
	}
}

// writeTable writes a Markdown table (header, rule, rows) as tagged
// paragraphs: the first cell is the tag, the second the text, and any
// further cell is added as "; header value".
func writeTable(b *strings.Builder, rows []string) {
	if len(rows) < 3 {
		return
	}
	header := tableCells(rows[0])
	for _, row := range rows[2:] {
		cells := tableCells(row)
		if len(cells) < 2 {
			continue
		}
		text := cells[1]
		for k := 2; k < len(cells) && k < len(header); k++ {
			text += "; " + header[k] + " " + cells[k]
		}
		b.WriteString(".TP\n" + roffLine(inlineRoff(cells[0])) + "\n" + roffLine(inlineRoff(text)) + "\n")
	}
}

func tableCells(row string) []string {
	cells := strings.Split(strings.Trim(strings.TrimSpace(row), "|"), "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

// inlineRoff converts `code` and **bold** spans to bold, escaping the rest.
// In code, - is \- (a minus sign, so a copied option works).
func inlineRoff(s string) string {
	var b strings.Builder
	for s != "" {
		switch {
		case strings.HasPrefix(s, "`"):
			code, rest, ok := strings.Cut(s[1:], "`")
			if !ok {
				b.WriteString(roffEscape(s))
				return b.String()
			}
			b.WriteString(`\fB` + strings.ReplaceAll(roffEscape(code), "-", `\-`) + `\fR`)
			s = rest
		case strings.HasPrefix(s, "**"):
			bold, rest, ok := strings.Cut(s[2:], "**")
			if !ok {
				b.WriteString(roffEscape(s))
				return b.String()
			}
			b.WriteString(`\fB` + roffEscape(bold) + `\fR`)
			s = rest
		default:
			n := strings.IndexAny(s, "`*")
			if n == 0 {
				n = 1 // a lone *
			} else if n < 0 {
				n = len(s)
			}
			b.WriteString(roffEscape(s[:n]))
			s = s[n:]
		}
	}
	return b.String()
}

// roffEscape makes text safe in roff: a backslash is \e and a character
// beyond ASCII is its \[uXXXX] escape (groff reads its input as Latin-1).
func roffEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r > 126:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// roffLine keeps a text line from being read as a request: one starting
// with . or ' gets a zero-width \& first.
func roffLine(s string) string {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		return `\&` + s
	}
	return s
}

// roffText makes mango's output safe as roffEscape does, leaving its
// escapes and requests alone (characters beyond ASCII, text lines that
// start with '), and mends its nested lists.
func roffText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 126 {
			fmt.Fprintf(&b, `\[u%04X]`, r)
		} else {
			b.WriteRune(r)
		}
	}
	// mango starts a subcommand's list of options or commands without a
	// tagged paragraph, which runs its first entry into the next line.
	out := b.String()
	for _, list := range []string{"OPTIONS", "COMMANDS"} {
		out = strings.ReplaceAll(out, "\\fB"+list+"\\fP\n.RS 4\n", "\\fB"+list+"\\fP\n.RS 4\n.TP\n")
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

// roffQuoted is s inside a quoted request argument.
func roffQuoted(s string) string { return strings.ReplaceAll(roffEscape(s), `"`, `\(dq`) }
