package main

// The manifest of `keywright batch FILE` (README "Many at once: batch"):
// checked whole before anything is written, then read again, entry by
// entry, for the work (Manifest.forEachEntry), so that no pass holds
// every entry: a batch keeps the names seen while it checks (for
// duplicates) and the entries of the chunk in hand, and reads the file's
// bytes from disk as it needs them (manifest_source.go). This file has
// the types and the error that lists every problem as FILE:LINE;
// manifest_check.go the checks of an entry, which YAML (manifest_yaml.go)
// and CSV (manifest_csv.go) share. Whether a CA it names exists is left to
// the batch command (Manifest.CAs, Manifest.SSHCAs). YAML's node tree,
// about 1.7 KiB an entry, is built a chunk of entries at a time
// (manifest_yaml_chunks.go); CSV is read a record at a time.
//
// Rules beyond README "Many at once: batch", for the README when batch lands:
//   - Names are compared without case for duplicates ("web1" and "WEB1" are
//     one file on macOS and Windows); certificate and ssh entries are
//     separate name spaces (NAME.crt and ssh/NAME).
//   - defaults take any certificate field but name, sans and cn: those name
//     one certificate, and a default would put the same name in every
//     certificate (a default CN too, since the CN is made one of the SANs).
//   - Key fields merge field by field with defaults, except that an entry
//     whose type differs from the defaults' takes no bits or curve from
//     them (defaults rsa 4096, entry type ecdsa: ecdsa p256).
//   - days: 0 is refused (leave days out for the default); days, bits are
//     whole numbers, not strings.
//   - A manifest with no entry is refused: an empty list from a broken
//     inventory query should not pass as done.

import (
	"bytes"
	"crypto/x509/pkix"
	"fmt"
	"hash/maphash"
	"sort"
	"strings"

	"github.com/keywright/keywright/csr"
	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// Manifest kinds.
const (
	manifestYAML = "yaml"
	manifestCSV  = "csv"
)

// maxManifestProblems is how many problems a manifestError lists; the rest
// are counted ("... and N more").
const maxManifestProblems = 100

// sshCertDefaultDays is ssh sign's --days default.
const sshCertDefaultDays = 90

// Manifest is a batch manifest, checked whole. Its entries are kept only
// when it was read with keepEntries (parseManifest, for tests); a batch
// reads them again with forEachEntry.
type Manifest struct {
	File   string // as given; "stdin" for "-"
	Kind   string // manifestYAML or manifestCSV
	Certs  []CertEntry
	SSH    []SSHEntry
	CAs    []CARef // the CAs certificate entries name, in order of first mention
	SSHCAs []CARef // the SSH CAs ssh certificates name, likewise

	NCerts, NSSH int // the entries that passed the check
	NoCA         int // certificate entries that name no CA (with defaults applied)
	NoCALine     int // the first of them
	// Lifetimes tallies the certificate entries by lifetime in days (the
	// default when left out), so batch can say which a --renew-within
	// window renews on every run. Few keys: days run from 1 to 825.
	Lifetimes map[int]lifetimeTally

	src   *manifestSource // the file, for forEachEntry
	split *yamlSplit      // where the chunked YAML reader found the items
	whole bool            // a YAML document the chunked reader could not take
}

// lifetimeTally is how many entries have one lifetime, and the first.
type lifetimeTally struct {
	N    int
	Line int
	Name string
}

// tallyLifetime counts e under its lifetime.
func (m *Manifest) tallyLifetime(e *CertEntry) {
	days := e.Days
	if days == 0 {
		days = csr.DefaultDays
	}
	if m.Lifetimes == nil {
		m.Lifetimes = map[int]lifetimeTally{}
	}
	t := m.Lifetimes[days]
	if t.N == 0 {
		t.Line, t.Name = e.Line, e.Name
	}
	t.N++
	m.Lifetimes[days] = t
}

// Close closes the manifest's file.
func (m *Manifest) Close() error { return m.src.Close() }

// manifestSink receives a manifest's checked entries in the order read; a
// nil function drops that kind (and lets the chunked YAML reader skip its
// list). pos counts the entries of its kind from 0.
type manifestSink struct {
	cert func(pos int, e *CertEntry)
	ssh  func(pos int, e *SSHEntry)
	stop func() bool // when it says so, the rest is not read (Ctrl-C)
}

// keepEntries is the sink that keeps every entry in the manifest.
func keepEntries(m *Manifest) manifestSink {
	return manifestSink{
		cert: func(_ int, e *CertEntry) { m.Certs = append(m.Certs, *e) },
		ssh:  func(_ int, e *SSHEntry) { m.SSH = append(m.SSH, *e) },
	}
}

// forEachEntry reads the manifest again and passes every entry to sink,
// in the order of the check. Only a manifest that passed its check is read
// again, so nothing is refused now; the same reader (chunked or whole)
// reads it. The error is the file's: it could not be read again, or it was
// changed (errManifestChanged), and the sink got no entry after that.
func (m *Manifest) forEachEntry(sink manifestSink) error {
	again := &Manifest{File: m.File, Kind: m.Kind, src: m.src, split: m.split}
	c := newManifestChecker(again, sink)
	c.reread = true
	switch {
	case m.Kind == manifestCSV:
		readCSVManifest(c, m.src.reader())
	case m.whole:
		if data, err := m.src.whole(); err == nil {
			readYAMLManifest(c, data)
		}
	default:
		readYAMLChunked(c, m.src)
	}
	return m.src.err
}

// CARef is a CA a manifest names and the first line that names it (for a
// CA from defaults, the line in defaults).
type CARef struct {
	Name string
	Line int
}

// CertEntry is one certificate to issue, checked, with defaults applied.
type CertEntry struct {
	Line    int         // the entry's line (its first field; a CSV record's line)
	Name    string      // a NAME (store.ValidateName)
	SANs    csr.SANs    // parsed, with the CN among them (leafSubject, as issue)
	CN      string      // as given, else the first DNS name (as issue); may be ""
	Profile string      // a leaf profile: server (default), client, server-client, code-signing, email
	Days    int         // 1 to csr.MaxDays; csr.DefaultDays when neither entry nor defaults say
	CA      string      // a NAME, or "" for issue's choice (the only CA, or a new local-ca)
	Key     keygen.Spec // normalized as key new does (ecdsa p256 by default)
}

// Subject is the certificate's subject: its CN alone, as issue makes it.
func (c CertEntry) Subject() pkix.Name { return pkix.Name{CommonName: c.CN} }

// SSHEntry is one SSH key pair to make (ssh/NAME, ssh/NAME.pub), checked.
type SSHEntry struct {
	Line    int
	Name    string      // a NAME
	Type    string      // as written ("" is ed25519), as ssh keygen --type
	Bits    int         // as written, as ssh keygen --bits (ssh-keygen -b)
	Key     keygen.Spec // what Type and Bits ask for (sshKeySpec)
	Comment string      // "" means the NAME, as ssh keygen
	Cert    *SSHCertEntry
}

// flags are the entry's key as ssh keygen's flags (for writeSSHPair).
func (s SSHEntry) flags() sshKeyFlags {
	return sshKeyFlags{Type: s.Type, Bits: s.Bits, Comment: s.Comment}
}

// SSHCertEntry is the SSH certificate of an SSHEntry, checked as ssh sign
// checks its flags.
type SSHCertEntry struct {
	Line       int
	CA         string // an SSH CA's NAME (ssh/NAME in the store)
	Identity   string // the key id
	Principals []string
	Days       int // at least 1; 90 when not given, as ssh sign
	Host       bool
}

// manifestProblem is one thing wrong in a manifest.
type manifestProblem struct {
	Line int    // 1-based; 0 when it is about the file as a whole
	Msg  string // what is wrong, without FILE:LINE
	Err  error  // the validator's error, when one refused a value
}

// manifestError lists every problem of a manifest, one "FILE:LINE: ..."
// line each (ui.go prints each as its own error line). It does not wrap
// the validators' errors, whose hints speak of flags and files: each
// problem's Err has them.
type manifestError struct {
	File     string
	Problems []manifestProblem // in line order, at most maxManifestProblems
	More     int               // problems found beyond those
}

func (e *manifestError) Error() string { return strings.Join(e.ErrorLines(), "\n") }

// ErrorLines are the lines of the message: "FILE:LINE: what is wrong".
func (e *manifestError) ErrorLines() []string {
	lines := make([]string, 0, len(e.Problems)+1)
	for _, p := range e.Problems {
		if p.Line > 0 {
			lines = append(lines, fmt.Sprintf("%s:%d: %s", e.File, p.Line, p.Msg))
		} else {
			lines = append(lines, fmt.Sprintf("%s: %s", e.File, p.Msg))
		}
	}
	if e.More > 0 {
		lines = append(lines, fmt.Sprintf("%s: ... and %d more", e.File, e.More))
	}
	return lines
}

// addf records a problem at line.
func (e *manifestError) addf(line int, format string, args ...any) {
	e.add(manifestProblem{Line: line, Msg: fmt.Sprintf(format, plainArgs(args)...)})
}

// addErr records a validator's refusal of the value at path.
func (e *manifestError) addErr(line int, path string, err error) {
	e.add(manifestProblem{Line: line, Msg: path + ": " + fault.Text(err), Err: err})
}

// add keeps p when it is among the first maxManifestProblems by line (a
// problem found later, such as an unknown CA merged after the check, may
// come before those kept); the others are counted.
func (e *manifestError) add(p manifestProblem) {
	if len(e.Problems) < maxManifestProblems {
		e.Problems = append(e.Problems, p)
		return
	}
	e.More++
	last := 0
	for i, q := range e.Problems {
		if q.Line >= e.Problems[last].Line {
			last = i
		}
	}
	if p.Line < e.Problems[last].Line {
		e.Problems[last] = p
	}
}

// merge adds o's problems to e's.
func (e *manifestError) merge(o *manifestError) {
	for _, p := range o.Problems {
		e.add(p)
	}
	e.More += o.More
}

// orNil is e, sorted by line, or nil when there is no problem.
func (e *manifestError) orNil() error {
	if len(e.Problems) == 0 {
		return nil
	}
	sort.SliceStable(e.Problems, func(i, j int) bool { return e.Problems[i].Line < e.Problems[j].Line })
	return e
}

// readManifest opens FILE ("-": stdin, at most store.MaxFileSize; a regular
// file up to maxManifestFile) and checks all of it, keeping neither its
// bytes nor its entries (forEachEntry reads them); close the manifest
// returned. The kind comes from the extension (.yaml, .yml, .csv), else from
// the content (sniffManifest). Every problem is in the returned
// *manifestError; a file that cannot be read is store's error.
//
// With problems, the manifest is returned too (nil only when the file could
// not be read): what it names can still be checked against the store, so
// that every problem is reported in one run.
//
// sink, when not nil, gets every entry that passes its check, as it passes
// (the entries are not kept): a batch plans them as they come.
func readManifest(e *Env, file string, sink *manifestSink) (*Manifest, error) {
	src, err := openManifest(e, file)
	if err != nil {
		return nil, err
	}
	var sinkOf func(*Manifest) manifestSink
	if sink != nil {
		sinkOf = func(*Manifest) manifestSink { return *sink }
	}
	m, err := checkManifest(manifestKindOf(file), src, sinkOf)
	if m == nil {
		src.Close()
	}
	return m, err
}

// manifestKindOf is the kind a file's extension says, or "" for none.
func manifestKindOf(file string) string {
	lower := strings.ToLower(file)
	switch {
	case strings.HasSuffix(lower, ".yaml"), strings.HasSuffix(lower, ".yml"):
		return manifestYAML
	case strings.HasSuffix(lower, ".csv"):
		return manifestCSV
	}
	return ""
}

// sniffManifest tells CSV from YAML by content (its first sniffBytes): CSV
// when the first line that is neither blank nor a # comment has a comma and
// no colon (a CSV header, "name,sans,..."); YAML otherwise ("certificates:",
// "---").
func sniffManifest(data []byte) string {
	rest := bytes.TrimPrefix(data, []byte(utf8BOM))
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if bytes.ContainsRune(line, ',') && !bytes.ContainsRune(line, ':') {
			return manifestCSV
		}
		return manifestYAML
	}
	return manifestYAML
}

// sniffBytes is how much of a manifest sniffManifest reads.
const sniffBytes = 64 << 10

// utf8BOM starts some files that spreadsheets save.
const utf8BOM = "\uFEFF"

// parseManifest checks data, the manifest called name in messages, as kind
// ("": by content), and keeps its entries.
func parseManifest(name, kind string, data []byte) (*Manifest, error) {
	m, err := checkManifest(kind, memManifest(name, data), keepEntries)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// checkManifest checks src; sink, when not nil, makes the sink that
// receives the entries of the manifest being checked. A file that cannot be
// read (or read whole, when the chunked reader cannot take it) returns no
// manifest.
func checkManifest(kind string, src *manifestSource, sink func(*Manifest) manifestSink) (*Manifest, error) {
	if kind == "" {
		head, err := src.prefix(sniffBytes)
		if err != nil {
			return nil, err
		}
		kind = sniffManifest(head)
	}
	start := func() (*Manifest, *manifestChecker) {
		m := &Manifest{File: src.name, Kind: kind, src: src}
		var s manifestSink
		if sink != nil {
			s = sink(m)
		}
		return m, newManifestChecker(m, s)
	}
	m, c := start()
	if kind == manifestCSV {
		readCSVManifest(c, src.reader())
	} else if nc := readYAMLChunked(c, src); nc != nil {
		if src.size > store.MaxFileSize { // too large to read whole: say why not in parts
			if !nc.reported {
				c.errs.add(nc.problem())
			}
		} else {
			data, err := src.whole()
			if err != nil {
				return nil, err
			}
			m, c = start() // again, whole
			m.whole = true
			readYAMLManifest(c, data)
		}
	}
	if err := src.settled(); err != nil {
		return nil, err
	}
	if len(c.errs.Problems) == 0 && m.NCerts+m.NSSH == 0 {
		c.errs.addf(0, "no entries: a manifest lists certificates or ssh keys")
	}
	return m, c.errs.orNil()
}

// Fields as written, each with its line (0: not given). bad marks a value
// already reported (a wrong type): it is neither checked nor missing.
type (
	textField struct {
		line int
		v    string
		bad  bool
	}
	numField struct {
		line int
		v    int
		bad  bool
	}
	boolField struct {
		line int
		v    bool
		bad  bool
	}
	listField struct {
		line  int
		v     []string
		lines []int // of each value
		bad   bool
	}
)

// certFields are a certificate entry (or the defaults) as written.
type certFields struct {
	line                              int
	name, cn, profile, ca, typ, curve textField
	sans                              listField
	days, bits                        numField
}

// sshFields are an ssh entry as written.
type sshFields struct {
	line               int
	name, typ, comment textField
	bits               numField
	cert               *sshCertFields
	certBad            bool // certificate: was not a mapping (reported)
}

// sshCertFields are an ssh entry's certificate as written.
type sshCertFields struct {
	line         int
	ca, identity textField
	principals   listField
	days         numField
	host         boolField
}

// nameSeen is where a name was first given, and how it was spelled.
type nameSeen struct {
	line int
	name string
}

// nameSet is the names entries gave, compared without case. Each is kept
// as a 128-bit hash of its lowercase form (two seeded maphashes: no
// collision in any manifest that fits in a file) and its line, and only a
// name spelled with capitals as its string too, so that a large manifest's
// check holds a small key per entry rather than every name.
type nameSet struct {
	seeds [2]maphash.Seed
	lines map[[2]uint64]int
	spelt map[[2]uint64]string
}

func newNameSet() *nameSet {
	return &nameSet{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		lines: map[[2]uint64]int{}, spelt: map[[2]uint64]string{}}
}

// add notes name at line, or returns where it was first given.
func (s *nameSet) add(name string, line int) (nameSeen, bool) {
	lower := strings.ToLower(name)
	key := [2]uint64{maphash.String(s.seeds[0], lower), maphash.String(s.seeds[1], lower)}
	if first, dup := s.lines[key]; dup {
		spelt, ok := s.spelt[key]
		if !ok {
			spelt = lower
		}
		return nameSeen{line: first, name: spelt}, true
	}
	s.lines[key] = line
	if lower != name {
		s.spelt[key] = name
	}
	return nameSeen{}, false
}

// manifestChecker checks entries as the readers find them, counts the good
// ones in the manifest and passes them to the sink.
type manifestChecker struct {
	m         *Manifest
	sink      manifestSink
	reread    bool // forEachEntry: the check passed, and a list the sink drops need not be read
	errs      *manifestError
	defaults  certFields // checked: a field that failed is left out
	certNames *nameSet
	sshNames  *nameSet
	caSeen    map[string]bool
	sshCASeen map[string]bool
}

func newManifestChecker(m *Manifest, sink manifestSink) *manifestChecker {
	return &manifestChecker{m: m, sink: sink, errs: &manifestError{File: m.File},
		certNames: newNameSet(), sshNames: newNameSet(),
		caSeen: map[string]bool{}, sshCASeen: map[string]bool{}}
}

// skips reports whether the list called key (certificates, ssh) need not
// be read: a manifest read again for a sink that drops its entries.
func (c *manifestChecker) skips(key string) bool {
	if !c.reread {
		return false
	}
	if key == "certificates" {
		return c.sink.cert == nil
	}
	return c.sink.ssh == nil
}

// stopped reports whether the sink wants no more entries, or the file
// could not be read.
func (c *manifestChecker) stopped() bool {
	return c.m.src.failed() || (c.sink.stop != nil && c.sink.stop())
}

// fieldPath names a field in messages: "certificates[2].sans" in YAML,
// "sans" in CSV (where is "").
func fieldPath(where, field string) string {
	if where == "" {
		return field
	}
	return where + "." + field
}

// entryMsg puts an entry's path before a message about the whole entry
// ("certificates[2]: ..."; nothing in CSV, where the line says which).
func entryMsg(where, msg string) string {
	if where == "" {
		return msg
	}
	return where + ": " + msg
}

// name checks a NAME and that no earlier entry of names has it.
func (c *manifestChecker) name(f textField, entryLine int, where string, names *nameSet) (string, bool) {
	switch {
	case f.bad:
		return "", false
	case f.line == 0:
		c.errs.addf(entryLine, "%s", entryMsg(where, "no name: every entry needs a NAME"))
		return "", false
	}
	if err := store.ValidateName(f.v); err != nil {
		c.errs.addErr(f.line, fieldPath(where, "name"), err)
		return "", false
	}
	if c.reread {
		return f.v, true // the check found no duplicate: no need to keep every name again
	}
	if first, dup := names.add(f.v, f.line); dup {
		as := ""
		if first.name != f.v {
			as = fmt.Sprintf(" as %q; names that differ only in case are one file on macOS and Windows", first.name)
		}
		c.errs.addf(f.line, "%s", entryMsg(where, fmt.Sprintf("duplicate name %q (first on line %d%s)", f.v, first.line, as)))
		return "", false
	}
	return f.v, true
}

// caName checks the NAME of a CA ("" is none).
func (c *manifestChecker) caName(f textField, path string) bool {
	if f.bad || f.v == "" {
		return !f.bad
	}
	if err := store.ValidateName(f.v); err != nil {
		c.errs.addErr(f.line, path, err)
		return false
	}
	return true
}

// noteCA adds a CA an entry uses to refs, once, with the line naming it.
func noteCA(f textField, seen map[string]bool, refs *[]CARef) {
	if f.v != "" && !seen[f.v] {
		seen[f.v] = true
		*refs = append(*refs, CARef{Name: f.v, Line: f.line})
	}
}

// errNoDefault explains why defaults take no name, sans or cn.
var errNoDefault = newError("not allowed in defaults: it names one certificate, and a default would give every certificate the same name")
