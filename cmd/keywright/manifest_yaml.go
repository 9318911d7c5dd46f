package main

// The YAML form of a batch manifest (README "Many at once: batch"), read with
// go.yaml.in/yaml/v3's Node API: the maintained successor of the archived
// gopkg.in/yaml.v3, with no dependencies of its own, whose nodes carry the
// line of every key and value, so each problem is reported where it is.
// goccy/go-yaml would do as well, but builds a larger tree (tokens and an
// AST) and brings more code.
//
// Strict: an unknown or duplicated key, a value of the wrong kind (a list
// where a string goes, a string where a number goes), a document that is
// not a mapping or a second document are each a problem with its line. A
// single string is taken where a list goes (sans: web1.example, as a
// one-element list; it is not split). Aliases are refused, so no alias
// bomb (billion laughs) expands: the tree is as large as the text, whose
// size store.ReadFile caps.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// The keys of each mapping of a manifest.
var (
	manifestTopKeys  = []string{"defaults", "certificates", "ssh"}
	manifestCertKeys = []string{"name", "sans", "cn", "profile", "days", "ca", "type", "bits", "curve"}
	manifestSSHKeys  = []string{"name", "type", "bits", "comment", "certificate"}
	manifestSSHCert  = []string{"ca", "identity", "principals", "days", "host"}
)

// yamlWalker turns nodes into fields, reporting what does not fit.
type yamlWalker struct{ errs *manifestError }

// readYAMLManifest parses data and checks its entries with c.
func readYAMLManifest(c *manifestChecker, data []byte) {
	w := yamlWalker{errs: c.errs}
	root := w.document(data)
	if root == nil {
		return
	}
	var sections [3]*yaml.Node
	w.mapping(root, "", manifestTopKeys, func(key string, v *yaml.Node) {
		for i, k := range manifestTopKeys {
			if k == key {
				sections[i] = v
			}
		}
	})
	if d := sections[0]; d != nil && !isNull(d) {
		if d.Kind != yaml.MappingNode {
			w.errs.addf(d.Line, "defaults: want a mapping of certificate fields, got %s", yamlKind(d))
		} else {
			c.checkDefaults(w.certFields(d, "defaults"))
		}
	}
	if !c.skips("certificates") {
		w.items(sections[1], "certificates", func(n *yaml.Node, where string) {
			if !c.stopped() {
				c.cert(w.certFields(n, where), where)
			}
		})
	}
	if !c.skips("ssh") {
		w.items(sections[2], "ssh", func(n *yaml.Node, where string) {
			if !c.stopped() {
				c.ssh(w.sshFields(n, where), where)
			}
		})
	}
}

// yamlLine finds the line in the parser's errors ("yaml: line 3: ...").
// It is compiled when a manifest first fails to parse, not at start-up:
// every command would pay for it (issue 8).
var yamlLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// yamlParserProblems are the errors of yaml.v3's parser (parserc.go), as
// opposed to its scanner's. The parser's give the line counted from 0, and
// none for the first line (decode.go, parser.fail); the scanner's from 1.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected '-' indicator",
	"did not find expected <document start>", "did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive", "found duplicate %YAML directive",
	"found incompatible YAML document", "found undefined tag handle",
}

// yamlSyntaxProblem is a parse error at its line (0 when yaml.v3 does not
// say: an unknown anchor, a control character).
func yamlSyntaxProblem(err error) manifestProblem {
	// The YAML library's messages are "yaml: [line N: ]PROBLEM" strings:
	// read as that format, and said in keywright's words.
	problem, line := strings.TrimPrefix(err.Error(), "yaml: "), 0
	if m := yamlLine().FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		problem = m[2]
	}
	if slices.Contains(yamlParserProblems, problem) {
		line++
	}
	return manifestProblem{Line: line, Msg: "not valid YAML: " + problem, Err: err}
}

// document parses data as one YAML document and returns its root mapping,
// or nil after reporting why there is none.
func (w yamlWalker) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, next yaml.Node
	err := dec.Decode(&doc)
	if err == nil {
		if err = dec.Decode(&next); err == nil {
			w.errs.addf(next.Line, "a second YAML document: a manifest is one document")
			return nil
		} else if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		w.errs.addf(0, "empty manifest")
		return nil
	case err != nil:
		w.errs.add(yamlSyntaxProblem(err))
		return nil
	}
	if w.aliases(&doc) {
		return nil
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if isNull(root) {
		w.errs.addf(0, "empty manifest")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		w.errs.addf(root.Line, "want a mapping with certificates:, ssh: and defaults:, got %s", yamlKind(root))
		return nil
	}
	return root
}

// aliases reports every alias in the tree, and whether there was one.
func (w yamlWalker) aliases(doc *yaml.Node) bool {
	found := false
	stack := []*yaml.Node{doc}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Kind == yaml.AliasNode {
			w.errs.addf(n.Line, "alias *%s: aliases are not supported (repeat the value, or use defaults:)", n.Value)
			found = true
			continue
		}
		stack = append(stack, n.Content...)
	}
	return found
}

// mapping calls fn with each key of n and its value, reporting keys that
// are not scalars, not in allowed, or given twice.
func (w yamlWalker) mapping(n *yaml.Node, where string, allowed []string, fn func(key string, v *yaml.Node)) {
	var first [16]int // line of each allowed key seen
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.errs.addf(k.Line, "%s: a key must be a plain name, got %s", orRoot(where), yamlKind(k))
			continue
		}
		idx := -1
		for j, a := range allowed {
			if a == k.Value {
				idx = j
			}
		}
		switch {
		case idx < 0:
			w.errs.addf(k.Line, "%s: unknown field %q (want %s)", orRoot(where), k.Value, strings.Join(allowed, ", "))
		case first[idx] != 0:
			w.errs.addf(k.Line, "%s: duplicate field (first on line %d)", fieldPath(where, k.Value), first[idx])
		default:
			first[idx] = k.Line
			fn(k.Value, v)
		}
	}
}

// orRoot names the top level in messages.
func orRoot(where string) string {
	if where == "" {
		return "manifest"
	}
	return where
}

// items calls fn with each mapping in the list n (nil or null: none).
func (w yamlWalker) items(n *yaml.Node, section string, fn func(n *yaml.Node, where string)) {
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		w.errs.addf(n.Line, "%s: want a list of entries (- name: ...), got %s", section, yamlKind(n))
		return
	}
	for i, item := range n.Content {
		where := fmt.Sprintf("%s[%d]", section, i)
		if item.Kind != yaml.MappingNode {
			w.errs.addf(item.Line, "%s: want a mapping (name: ...), got %s", where, yamlKind(item))
			continue
		}
		fn(item, where)
	}
}

// certFields reads a certificate entry, or the defaults.
func (w yamlWalker) certFields(n *yaml.Node, where string) certFields {
	f := certFields{line: n.Line}
	w.mapping(n, where, manifestCertKeys, func(key string, v *yaml.Node) {
		path := fieldPath(where, key)
		switch key {
		case "name":
			f.name = w.text(v, path)
		case "sans":
			f.sans = w.list(v, path)
		case "cn":
			f.cn = w.text(v, path)
		case "profile":
			f.profile = w.text(v, path)
		case "days":
			f.days = w.number(v, path)
		case "ca":
			f.ca = w.text(v, path)
		case "type":
			f.typ = w.text(v, path)
		case "bits":
			f.bits = w.number(v, path)
		case "curve":
			f.curve = w.text(v, path)
		}
	})
	return f
}

// sshFields reads an ssh entry.
func (w yamlWalker) sshFields(n *yaml.Node, where string) sshFields {
	f := sshFields{line: n.Line}
	w.mapping(n, where, manifestSSHKeys, func(key string, v *yaml.Node) {
		path := fieldPath(where, key)
		switch key {
		case "name":
			f.name = w.text(v, path)
		case "type":
			f.typ = w.text(v, path)
		case "bits":
			f.bits = w.number(v, path)
		case "comment":
			f.comment = w.text(v, path)
		case "certificate":
			if v.Kind != yaml.MappingNode {
				w.errs.addf(v.Line, "%s: want a mapping (ca:, identity:, principals:, ...), got %s", path, yamlKind(v))
				f.certBad = true
				return
			}
			f.cert = w.sshCertFields(v, path)
		}
	})
	return f
}

// sshCertFields reads the certificate of an ssh entry.
func (w yamlWalker) sshCertFields(n *yaml.Node, where string) *sshCertFields {
	f := &sshCertFields{line: n.Line}
	w.mapping(n, where, manifestSSHCert, func(key string, v *yaml.Node) {
		path := fieldPath(where, key)
		switch key {
		case "ca":
			f.ca = w.text(v, path)
		case "identity":
			f.identity = w.text(v, path)
		case "principals":
			f.principals = w.list(v, path)
		case "days":
			f.days = w.number(v, path)
		case "host":
			f.host = w.boolean(v, path)
		}
	})
	return f
}

// text is a scalar's text as written (a number or a date too: web-2024).
func (w yamlWalker) text(v *yaml.Node, path string) textField {
	if v.Kind != yaml.ScalarNode || !plainTag(v.ShortTag()) {
		w.errs.addf(v.Line, "%s: want a string, got %s", path, yamlKind(v))
		return textField{line: v.Line, bad: true}
	}
	return textField{line: v.Line, v: v.Value}
}

// number is a whole number (not a string of digits).
func (w yamlWalker) number(v *yaml.Node, path string) numField {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
		w.errs.addf(v.Line, "%s: want a whole number, got %s", path, yamlKind(v))
		return numField{line: v.Line, bad: true}
	}
	// decimal digits only: YAML's 010 is 8 (octal) and 0x1e is 30
	if strings.Trim(strings.TrimLeft(v.Value, "+-"), "0123456789") != "" {
		w.errs.addf(v.Line, "%s: want a whole number in decimal digits, got %q", path, v.Value)
		return numField{line: v.Line, bad: true}
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil {
		w.errs.addf(v.Line, "%s: %s is out of range", path, v.Value)
		return numField{line: v.Line, bad: true}
	}
	return numField{line: v.Line, v: n}
}

// boolean is true or false.
func (w yamlWalker) boolean(v *yaml.Node, path string) boolField {
	var b bool
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Decode(&b) != nil {
		w.errs.addf(v.Line, "%s: want true or false, got %s", path, yamlKind(v))
		return boolField{line: v.Line, bad: true}
	}
	return boolField{line: v.Line, v: b}
}

// list is a list of strings, or one string as a list of one.
func (w yamlWalker) list(v *yaml.Node, path string) listField {
	if v.Kind == yaml.ScalarNode && plainTag(v.ShortTag()) {
		return listField{line: v.Line, v: []string{v.Value}, lines: []int{v.Line}}
	}
	if v.Kind != yaml.SequenceNode {
		w.errs.addf(v.Line, "%s: want a list of strings, got %s", path, yamlKind(v))
		return listField{line: v.Line, bad: true}
	}
	f := listField{line: v.Line, v: make([]string, 0, len(v.Content)), lines: make([]int, 0, len(v.Content))}
	for _, item := range v.Content {
		t := w.text(item, path)
		if t.bad {
			f.bad = true
			continue
		}
		f.v, f.lines = append(f.v, t.v), append(f.lines, t.line)
	}
	return f
}

// plainTag: a scalar whose text is taken as written (not null, binary or
// a custom tag).
func plainTag(tag string) bool {
	switch tag {
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
		return true
	}
	return false
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// yamlKind says what a node is, for "want X, got Y".
func yamlKind(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.AliasNode:
		return "an alias"
	case isNull(n):
		return "no value"
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	case n.Kind == yaml.ScalarNode:
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.ShortTag(), "!!"), n.Value)
	}
	return "a document"
}
