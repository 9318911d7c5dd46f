package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"strings"
)

// report is what `inspect` says about one object: an ordered list of fields,
// printed as "name: value" lines for people or as a JSON object with the
// same (snake_case, stable) names for programs.
type report struct {
	fields []field
}

type field struct {
	name  string
	value any
}

// add appends a field; empty strings, nil and empty lists are left out.
func (r *report) add(name string, value any) *report {
	switch v := value.(type) {
	case nil:
		return r
	case string:
		if v == "" {
			return r
		}
	case []string:
		if len(v) == 0 {
			return r
		}
	}
	r.fields = append(r.fields, field{name, value})
	return r
}

// MarshalJSON keeps the fields in order.
func (r *report) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range r.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.name)
		v, err := marshalNoEscape(f.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalNoEscape is json.Marshal without HTML escaping, as writeJSON.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// writeText prints the report as aligned "name: value" lines, indented by
// depth; nested reports are printed below their name.
func (r *report) writeText(w io.Writer, depth int) {
	pad := strings.Repeat("  ", depth)
	for _, f := range r.fields {
		label := strings.ReplaceAll(f.name, "_", " ")
		switch v := f.value.(type) {
		case *report:
			fmt.Fprintf(w, "%s%s:\n", pad, label)
			v.writeText(w, depth+1)
		case []*report:
			fmt.Fprintf(w, "%s%s:\n", pad, label)
			for _, sub := range v {
				fmt.Fprintf(w, "%s  -\n", pad)
				sub.writeText(w, depth+2)
			}
		case []string:
			fmt.Fprintf(w, "%s%s: %s\n", pad, label, strings.Join(v, ", "))
		case bool:
			fmt.Fprintf(w, "%s%s: %s\n", pad, label, map[bool]string{true: "yes", false: "no"}[v])
		default:
			fmt.Fprintf(w, "%s%s: %v\n", pad, label, v)
		}
	}
}

// writeJSON prints v on stdout as the one JSON document of --json:
// indented, with '<', '>' and '&' as themselves (subjects such as O=AT&T).
func writeJSON(e *Env, v any) error {
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeReports prints reports as text (blank line between) or as one JSON
// document {"objects": [...]}.
func writeReports(e *Env, reports []*report) error {
	if e.Globals.JSON {
		return writeJSON(e, map[string]any{"objects": reports})
	}
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(e.Stdout)
		}
		r.writeText(e.Stdout, 0)
	}
	return nil
}

// addWrittenCert adds the summary of the certificate in pemBytes to r.
func addWrittenCert(r *report, pemBytes []byte) error {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return errorf("no certificate in what was written")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err
	}
	addCertSummary(r, c)
	return nil
}
