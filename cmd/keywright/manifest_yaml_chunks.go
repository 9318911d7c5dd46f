package main

// Reading a large YAML manifest without its whole node tree in memory: a
// fleet's lists are parsed a chunk of entries at a time, so the tree of
// yaml.v3 (about 1.7 KiB an entry) never holds more than one chunk. This
// needs the plain block style every generator and person writes
// (certificates: then "- name: ..." items, one per indented block); any
// other shape — flow lists spanning the section, a second document, tabs,
// an anchor used across entries, a syntax error — makes the reader fall
// back to parsing the document whole, which reports every problem exactly
// as before. A file too large to parse whole (over store.MaxFileSize) gets,
// instead, the reason it could not be read in parts at its line
// (notChunkable), or the syntax error of the chunk that failed.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/keywright/keywright/store"
)

// yamlChunkEntries is how many entries one chunk of a list holds.
const yamlChunkEntries = 256

// notChunkable: the document is not in the shape the chunked reader needs
// (read it whole, if it is small enough), and why.
type notChunkable struct {
	line     int    // where (0: the document)
	why      string // what is not in block style; "" when err says
	err      error  // a YAML syntax error in a chunk
	offset   int    // the lines before that chunk
	reported bool   // the reader reported the problems already (in the skeleton)
}

func (e *notChunkable) Error() string { return "not in block style: " + e.why }

func notChunkableAt(line int, why string) *notChunkable { return &notChunkable{line: line, why: why} }

// problem is what to report when the document cannot be read whole.
func (e *notChunkable) problem() manifestProblem {
	if e.err != nil {
		p := yamlSyntaxProblem(e.err)
		if p.Line > 0 {
			p.Line += e.offset
		}
		return p
	}
	return manifestProblem{Line: e.line, Msg: fmt.Sprintf("a manifest over %d MiB is read in parts, which needs CSV or YAML in block style "+
		"(\"certificates:\" then one \"- name: ...\" item per entry): %s", store.MaxFileSize>>20, e.why)}
}

// yamlSplit is a document split for the chunked reader: the skeleton (the
// document with the items of its lists blanked, line numbers kept) and
// where the items of each list are. It is small (a byte for each line of
// an item), so the check keeps it for the work's reading.
type yamlSplit struct {
	skeleton []byte
	sections map[string]*yamlSection
}

// yamlSection is a top-level list (certificates:, ssh:) in block style, as
// chunks of items.
type yamlSection struct {
	key    string
	chunks []yamlChunk
	items  int
}

// yamlChunk is yamlChunkEntries items of a list at most (fewer at its end).
type yamlChunk struct {
	from, to int64 // their bytes in the file
	line     int   // the first item's "-" line, from 1
	n        int   // how many
}

// readYAMLChunked reads src in chunks into c, or says why src needs the
// whole-document reader (c is then untouched but for what it read, to be
// thrown away). A failed read of src stops c (c.m.src.err).
func readYAMLChunked(c *manifestChecker, src *manifestSource) *notChunkable {
	split := c.m.split
	if split == nil {
		var err error
		split, err = splitYAML(src)
		var nc *notChunkable
		switch {
		case src.err != nil:
			return nil
		case errors.As(err, &nc):
			return nc
		case err != nil:
			return notChunkableAt(0, err.Error())
		case len(split.sections) == 0:
			return notChunkableAt(0, "no \"certificates:\" or \"ssh:\" list in block style")
		}
	}
	w := yamlWalker{errs: c.errs}
	root := w.document(split.skeleton)
	if root == nil {
		return &notChunkable{reported: true}
	}
	var defaults *yaml.Node
	var mixed *notChunkable
	w.mapping(root, "", manifestTopKeys, func(key string, v *yaml.Node) {
		switch {
		case key == "defaults":
			defaults = v
		case split.sections[key] != nil && !isNull(v):
			// both a list in the skeleton and item lines: not what splitYAML expects
			mixed = notChunkableAt(v.Line, key+": a list both inline and in items")
		}
	})
	switch {
	case mixed != nil:
		return mixed
	case len(c.errs.Problems) > 0:
		return &notChunkable{reported: true}
	}
	if defaults != nil && !isNull(defaults) {
		if defaults.Kind != yaml.MappingNode {
			return notChunkableAt(defaults.Line, "defaults: not a mapping")
		}
		c.checkDefaults(w.certFields(defaults, "defaults"))
	}
	for _, key := range []string{"certificates", "ssh"} {
		if c.skips(key) {
			continue
		}
		if s := split.sections[key]; s != nil {
			if nc := readSectionChunks(c, w, src, s); nc != nil {
				return nc
			}
		}
	}
	c.m.split = split
	return nil
}

// readSectionChunks parses a section's items a chunk at a time and checks
// each entry, as the whole-document reader's items would.
func readSectionChunks(c *manifestChecker, w yamlWalker, src *manifestSource, s *yamlSection) *notChunkable {
	base := 0
	for _, ch := range s.chunks {
		if c.stopped() {
			break
		}
		text, err := src.slice(ch.from, ch.to)
		if err != nil {
			return nil // c is stopped
		}
		seq, err := parseChunk(text, ch.line-1)
		var nc *notChunkable
		switch {
		case errors.As(err, &nc):
			return nc
		case err != nil:
			return &notChunkable{err: err, offset: ch.line - 1}
		case len(seq.Content) != ch.n:
			return notChunkableAt(ch.line, fmt.Sprintf("%d items here, parsed as %d", ch.n, len(seq.Content)))
		}
		for k, item := range seq.Content {
			where := fmt.Sprintf("%s[%d]", s.key, base+k)
			if item.Kind != yaml.MappingNode {
				return notChunkableAt(item.Line, where+": not a mapping") // the whole reader says what it is
			}
			if s.key == "certificates" {
				c.cert(w.certFields(item, where), where)
			} else {
				c.ssh(w.sshFields(item, where), where)
			}
		}
		base += ch.n
	}
	return nil
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
		return nil, notChunkableAt(offset+1, "the items do not end where the list does")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, notChunkableAt(offset+1, "the items are not a list")
	}
	if n := aliasNode(&doc); n != nil {
		return nil, notChunkableAt(n.Line+offset, "an anchor or alias")
	}
	shiftLines(&doc, offset)
	return doc.Content[0], nil
}

// aliasNode is the first node that is an alias or has an anchor, or nil.
func aliasNode(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return n
	}
	for _, c := range n.Content {
		if a := aliasNode(c); a != nil {
			return a
		}
	}
	return nil
}

func shiftLines(n *yaml.Node, offset int) {
	n.Line += offset
	for _, c := range n.Content {
		shiftLines(c, offset)
	}
}

// splitYAML reads src line by line for the items of the top-level
// certificates: and ssh: lists written in block style. A line longer than
// yamlMaxLine is not in that style.
func splitYAML(src *manifestSource) (*yamlSplit, error) {
	sp := yamlSplitter{sections: map[string]*yamlSection{}}
	r := bufio.NewReaderSize(src.reader(), yamlMaxLine)
	var off int64
	for n := 1; ; n++ {
		line, err := r.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return nil, notChunkableAt(n, fmt.Sprintf("a line over %d KiB", yamlMaxLine>>10))
		case err != nil && !errors.Is(err, io.EOF):
			return nil, err
		case len(line) == 0:
			sp.endSection(off)
			return &yamlSplit{skeleton: sp.skeleton, sections: sp.sections}, nil
		}
		text := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r")) // LF or CRLF
		if n == 1 {
			text = bytes.TrimPrefix(text, []byte(utf8BOM))
		}
		switch {
		case bytes.IndexByte(text, '\t') >= 0:
			return nil, notChunkableAt(n, "a tab")
		case bytes.IndexByte(text, '\r') >= 0:
			return nil, notChunkableAt(n, "a carriage return that ends no line")
		}
		inItems, lerr := sp.line(off, n, text)
		if lerr != nil {
			return nil, lerr
		}
		if inItems {
			sp.skeleton = append(sp.skeleton, '\n')
		} else {
			sp.skeleton = append(sp.skeleton, line...)
		}
		if len(sp.skeleton) > yamlMaxSkeleton {
			if sp.inlineList > 0 {
				return nil, notChunkableAt(sp.inlineList, "a list written inline ([...]) over many lines")
			}
			return nil, notChunkableAt(n, fmt.Sprintf("over %d KiB outside the items of the certificates: and ssh: lists", yamlMaxSkeleton>>10))
		}
		off += int64(len(line))
	}
}

// yamlMaxLine is the longest line the chunked reader takes.
const yamlMaxLine = 64 << 10

// yamlMaxSkeleton caps what the chunked reader keeps of a document: the
// lines outside the lists' items (defaults, comments), a byte for each
// line of an item.
const yamlMaxSkeleton = 1 << 20

// yamlSplitter walks the lines of a document.
type yamlSplitter struct {
	sections map[string]*yamlSection
	skeleton []byte
	cur      *yamlSection // the list being read, or nil
	indent   int          // of its items' "-"; -1 until the first item
	started  bool         // a line other than blank, comment or "---" was seen
	// inlineList is the line of the last certificates: or ssh: key with its
	// list on the key's line (a flow list), 0 for none.
	inlineList int
}

// line reads text, the line that starts at byte start, line n, and says
// whether it is part of a list's items (blanked in the skeleton).
func (sp *yamlSplitter) line(start int64, n int, text []byte) (bool, error) {
	trimmed := bytes.TrimLeft(text, " ")
	indent := len(text) - len(trimmed)
	switch {
	case len(trimmed) == 0 || trimmed[0] == '#':
		return sp.inItems(), nil // blank or comment: goes with whatever it is in
	case indent == 0 && (bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("..."))):
		if sp.started {
			return false, notChunkableAt(n, "a second document, or an end marker")
		}
		return false, nil
	case indent == 0 && text[0] == '%':
		return false, notChunkableAt(n, "a directive")
	}
	sp.started = true
	isItem := trimmed[0] == '-' && (len(trimmed) == 1 || trimmed[1] == ' ')
	if sp.cur != nil {
		if sp.indent < 0 && isItem {
			sp.indent = indent
		}
		switch {
		case isItem && indent == sp.indent:
			sp.item(start, n)
			return true, nil
		case sp.indent >= 0 && indent > sp.indent:
			return true, nil // inside the open item
		case indent > 0:
			return false, notChunkableAt(n, "an indented line before the list's first item")
		}
		sp.endSection(start)
	}
	return false, sp.topLevel(text, n)
}

// inItems reports whether the open list has an item yet.
func (sp *yamlSplitter) inItems() bool { return sp.cur != nil && sp.cur.items > 0 }

// item notes an item of the open list starting at byte start, line n.
func (sp *yamlSplitter) item(start int64, n int) {
	s := sp.cur
	if s.items%yamlChunkEntries == 0 {
		if k := len(s.chunks); k > 0 {
			s.chunks[k-1].to = start
		}
		s.chunks = append(s.chunks, yamlChunk{from: start, line: n})
	}
	s.chunks[len(s.chunks)-1].n++
	s.items++
}

// topLevel reads a line at column 0: a key; certificates: and ssh: with
// nothing after them open a list to split.
func (sp *yamlSplitter) topLevel(text []byte, n int) error {
	key, rest, ok := bytes.Cut(text, []byte(":"))
	if !ok {
		return notChunkableAt(n, "a line at column 0 that is not a key")
	}
	rest = bytes.TrimSpace(rest)
	k := string(key)
	if k != "certificates" && k != "ssh" {
		return nil // parsed whole with the skeleton
	}
	if len(rest) > 0 && rest[0] != '#' {
		sp.inlineList = n
		return nil // likewise
	}
	if sp.sections[k] != nil {
		return notChunkableAt(n, k+": given twice") // the whole reader says so
	}
	sp.cur = &yamlSection{key: k}
	sp.sections[k] = sp.cur
	sp.indent = -1
	return nil
}

// endSection closes the open list where the current line starts.
func (sp *yamlSplitter) endSection(at int64) {
	if s := sp.cur; s != nil {
		if k := len(s.chunks); k > 0 {
			s.chunks[k-1].to = at
		}
		sp.cur = nil
	}
}
