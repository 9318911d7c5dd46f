package main

// Reading a large YAML manifest without its whole node tree in memory: a
// fleet's lists are parsed a chunk of entries at a time, so the tree of
// yaml.v3 (about 1.7 KiB an entry) never holds more than one chunk. This
// needs the plain block style every generator and person writes
// (certificates: then "- name: ..." items, one per indented block); any
// other shape — flow lists spanning the section, a second document, tabs,
// an anchor used across entries, a syntax error — makes the reader fall
// back to parsing the document whole, which reports every problem exactly
// as before.

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// yamlChunkEntries is how many entries one chunk of a list holds.
const yamlChunkEntries = 256

// errNotChunkable: the document is not in the shape the chunked reader
// needs; read it whole.
var errNotChunkable = newError("not chunkable")

// yamlSection is a top-level list (certificates:, ssh:) in block style:
// where each item starts, and where the list ends.
type yamlSection struct {
	key    string
	starts []int // byte offset of each item's "-" line
	lines  []int // 1-based line of each
	end    int   // byte offset where the list ends
}

// item is the bytes of items [from, to).
func (s *yamlSection) span(from, to int) (int, int) {
	end := s.end
	if to < len(s.starts) {
		end = s.starts[to]
	}
	return s.starts[from], end
}

// readYAMLChunked reads data in chunks into c, or returns false (with c
// untouched but for what it read, to be thrown away) when data needs the
// whole-document reader.
func readYAMLChunked(c *manifestChecker, data []byte) bool {
	skeleton, sections, err := splitYAML(data)
	if err != nil || len(sections) == 0 {
		return false
	}
	w := yamlWalker{errs: c.errs}
	root := w.document(skeleton)
	if root == nil {
		return false
	}
	var defaults *yaml.Node
	ok := true
	w.mapping(root, "", manifestTopKeys, func(key string, v *yaml.Node) {
		switch {
		case key == "defaults":
			defaults = v
		case sections[key] != nil && !isNull(v):
			ok = false // both a list in the skeleton and item lines: not what splitYAML expects
		}
	})
	if !ok || len(c.errs.Problems) > 0 {
		return false
	}
	if defaults != nil && !isNull(defaults) {
		if defaults.Kind != yaml.MappingNode {
			return false
		}
		c.checkDefaults(w.certFields(defaults, "defaults"))
	}
	for _, key := range []string{"certificates", "ssh"} {
		if c.skips(key) {
			continue
		}
		if s := sections[key]; s != nil && !readSectionChunks(c, w, data, s) {
			return false
		}
	}
	return true
}

// readSectionChunks parses a section's items a chunk at a time and checks
// each entry, as the whole-document reader's items would.
func readSectionChunks(c *manifestChecker, w yamlWalker, data []byte, s *yamlSection) bool {
	for base := 0; base < len(s.starts) && !c.stopped(); base += yamlChunkEntries {
		end := min(base+yamlChunkEntries, len(s.starts))
		from, to := s.span(base, end)
		seq, err := parseChunk(data[from:to], s.lines[base]-1)
		if err != nil || len(seq.Content) != end-base {
			return false
		}
		for k, item := range seq.Content {
			where := fmt.Sprintf("%s[%d]", s.key, base+k)
			if item.Kind != yaml.MappingNode {
				return false // let the whole reader say what it is
			}
			if s.key == "certificates" {
				c.cert(w.certFields(item, where), where)
			} else {
				c.ssh(w.sshFields(item, where), where)
			}
		}
	}
	return true
}

// parseChunk parses item lines as one YAML list, with node lines counted
// from the file's start (offset lines come before the chunk).
func parseChunk(text []byte, offset int) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var doc, next yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, errNotChunkable
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, errNotChunkable
	}
	if hasAlias(&doc) {
		return nil, errNotChunkable
	}
	shiftLines(&doc, offset)
	return doc.Content[0], nil
}

func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}

func shiftLines(n *yaml.Node, offset int) {
	n.Line += offset
	for _, c := range n.Content {
		shiftLines(c, offset)
	}
}

// splitYAML finds the items of the top-level certificates: and ssh: lists
// written in block style, and returns the document with those lists
// blanked (each line kept as an empty line, so line numbers stay) for the
// rest to be parsed whole.
func splitYAML(data []byte) ([]byte, map[string]*yamlSection, error) {
	if bytes.ContainsAny(data, "\t\r") || bytes.HasPrefix(data, []byte(utf8BOM)) {
		return nil, nil, errNotChunkable
	}
	sp := yamlSplitter{data: data, sections: map[string]*yamlSection{}}
	for off, n := 0, 1; off < len(data); n++ {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off + 1
		}
		if err := sp.line(off, n); err != nil {
			return nil, nil, err
		}
		off = end
	}
	sp.endSection(len(data))
	return sp.skeleton(), sp.sections, nil
}

// yamlSplitter walks the lines of a document.
type yamlSplitter struct {
	data     []byte
	sections map[string]*yamlSection
	cur      *yamlSection // the list being read, or nil
	indent   int          // of its items' "-"; -1 until the first item
	started  bool         // a line other than blank, comment or "---" was seen
}

// line reads the line that starts at byte start, line n.
func (sp *yamlSplitter) line(start, n int) error {
	text := sp.data[start:]
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	trimmed := bytes.TrimLeft(text, " ")
	indent := len(text) - len(trimmed)
	switch {
	case len(trimmed) == 0 || trimmed[0] == '#':
		return nil // blank or comment: goes with whatever it is in
	case indent == 0 && (bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("..."))):
		if sp.started {
			return errNotChunkable // a second document, or an end marker
		}
		return nil
	case indent == 0 && text[0] == '%':
		return errNotChunkable // a directive
	}
	sp.started = true
	isItem := trimmed[0] == '-' && (len(trimmed) == 1 || trimmed[1] == ' ')
	if sp.cur != nil {
		if sp.indent < 0 && isItem {
			sp.indent = indent
		}
		switch {
		case isItem && indent == sp.indent:
			sp.cur.starts = append(sp.cur.starts, start)
			sp.cur.lines = append(sp.cur.lines, n)
			return nil
		case sp.indent >= 0 && indent > sp.indent:
			return nil // inside the open item
		case indent > 0:
			return errNotChunkable // a line that belongs to no item
		}
		sp.endSection(start)
	}
	return sp.topLevel(text)
}

// topLevel reads a line at column 0: a key; certificates: and ssh: with
// nothing after them open a list to split.
func (sp *yamlSplitter) topLevel(text []byte) error {
	key, rest, ok := bytes.Cut(text, []byte(":"))
	if !ok {
		return errNotChunkable
	}
	rest = bytes.TrimSpace(rest)
	k := string(key)
	if (k != "certificates" && k != "ssh") || (len(rest) > 0 && rest[0] != '#') {
		return nil // parsed whole with the skeleton
	}
	if sp.sections[k] != nil {
		return errNotChunkable // a duplicate key: the whole reader says so
	}
	sp.cur = &yamlSection{key: k}
	sp.sections[k] = sp.cur
	sp.indent = -1
	return nil
}

// endSection closes the open list where the current line starts.
func (sp *yamlSplitter) endSection(at int) {
	if sp.cur != nil {
		sp.cur.end = at
		sp.cur = nil
	}
}

// skeleton is the document with every list's items blanked but their
// newlines.
func (sp *yamlSplitter) skeleton() []byte {
	out := bytes.Clone(sp.data)
	for _, s := range sp.sections {
		if len(s.starts) == 0 {
			continue
		}
		for i := s.starts[0]; i < s.end; i++ {
			if out[i] != '\n' {
				out[i] = ' '
			}
		}
	}
	return out
}
