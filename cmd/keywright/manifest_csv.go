package main

// The CSV form of a batch manifest (README "Many at once: batch"): certificates only, a
// header row naming any of name,sans,cn,profile,days,ca,type,bits,curve
// (name and sans required, in any order, any case), then one certificate
// per record. sans holds the names separated by ';' or spaces; an empty
// cell is a field not given. A UTF-8 byte order mark (as spreadsheets
// save) is skipped, so are blank lines and lines starting with '#'
// (comments, as encoding/csv's Comment). Records are read one at a time
// (encoding/csv, FieldPos for the line of each field).

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/keywright/keywright/internal/fault"
)

// csvColumns are the index in a record of each of manifestCertKeys (-1:
// no such column).
type csvColumns []int

// readCSVManifest parses in and checks its records with c. A failed read
// of the file stops c (c.m.src.err).
func readCSVManifest(c *manifestChecker, in io.Reader) {
	br := bufio.NewReader(in)
	if head, _ := br.Peek(len(utf8BOM)); string(head) == utf8BOM {
		_, _ = br.Discard(len(utf8BOM))
	}
	r := csv.NewReader(br)
	r.Comment = '#'
	r.FieldsPerRecord = -1 // checked here, so every short or long record is reported
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		c.errs.addf(0, "empty manifest: a CSV manifest starts with a header row (name,sans,...)")
		return
	}
	if err != nil {
		if !c.stopped() {
			csvProblem(c.errs, err)
		}
		return
	}
	headerLine, _ := r.FieldPos(0)
	cols, ok := csvHeader(c.errs, header, headerLine)
	if !ok {
		return
	}
	for !c.stopped() {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if !c.stopped() {
				csvProblem(c.errs, err) // the reader cannot be trusted after a syntax error
			}
			return
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			c.errs.addf(line, "%d fields, but the header has %d", len(rec), len(header))
			continue
		}
		c.cert(csvCertFields(r, rec, cols, line, c.errs), "")
	}
}

// csvProblem reports a CSV syntax error at its line.
func csvProblem(errs *manifestError, err error) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		errs.add(manifestProblem{Line: pe.Line, Msg: "not valid CSV: " + pe.Err.Error() + " (column " + strconv.Itoa(pe.Column) + ")", Err: err})
		return
	}
	errs.add(manifestProblem{Msg: fault.Text(err), Err: err})
}

// csvHeader checks the header row: known columns, each once, name and sans
// present. When it is wrong the records are not read: what their cells
// mean is not known.
func csvHeader(errs *manifestError, header []string, line int) (csvColumns, bool) {
	cols := make(csvColumns, len(manifestCertKeys))
	for k := range cols {
		cols[k] = -1
	}
	ok := true
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		k := slices.Index(manifestCertKeys, name)
		switch {
		case k < 0:
			errs.addf(line, "unknown column %q (want %s)", h, strings.Join(manifestCertKeys, ", "))
			ok = false
		case cols[k] >= 0:
			errs.addf(line, "column %q twice (columns %d and %d)", name, cols[k]+1, i+1)
			ok = false
		default:
			cols[k] = i
		}
	}
	for _, req := range []string{"name", "sans"} {
		if cols[slices.Index(manifestCertKeys, req)] < 0 {
			errs.addf(line, "no %s column: a CSV manifest needs name and sans", req)
			ok = false
		}
	}
	return cols, ok
}

// csvCertFields reads one record.
func csvCertFields(r *csv.Reader, rec []string, cols csvColumns, line int, errs *manifestError) certFields {
	f := certFields{line: line}
	for k, i := range cols {
		if i < 0 {
			continue
		}
		v := strings.TrimSpace(rec[i])
		if v == "" {
			continue
		}
		name := manifestCertKeys[k]
		at, _ := r.FieldPos(i)
		t := textField{line: at, v: v}
		switch name {
		case "name":
			f.name = t
		case "sans":
			f.sans = csvSANs(v, at)
		case "cn":
			f.cn = t
		case "profile":
			f.profile = t
		case "days":
			f.days = csvNumber(errs, name, v, at)
		case "ca":
			f.ca = t
		case "type":
			f.typ = t
		case "bits":
			f.bits = csvNumber(errs, name, v, at)
		case "curve":
			f.curve = t
		}
	}
	return f
}

// csvSANs splits a sans cell at ';' and spaces.
func csvSANs(v string, line int) listField {
	names := strings.FieldsFunc(v, func(r rune) bool { return r == ';' || unicode.IsSpace(r) })
	lines := make([]int, len(names))
	for i := range lines {
		lines[i] = line
	}
	return listField{line: line, v: names, lines: lines}
}

// csvNumber is a whole number cell.
func csvNumber(errs *manifestError, column, v string, line int) numField {
	n, err := strconv.Atoi(v)
	if err != nil {
		errs.addf(line, "%s: want a whole number, got %q", column, v)
		return numField{line: line, bad: true}
	}
	return numField{line: line, v: n}
}
