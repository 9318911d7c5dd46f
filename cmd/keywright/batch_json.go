package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// jsonStream writes batch's --json document as the entries are done, so
// that a batch holds no list of them however long the manifest:
//
//	{
//	  "entries": [ ... in manifest order ... ],
//	  "issued": N, "renewed": N, "skipped": N, "failed": N
//	}
//
// An entry done before one that comes earlier in the manifest (entries are
// done a group per CA at a time) waits in held until those before it are
// written; batch keeps that window small (prepareGroups sends a CA's group
// before it falls far behind). Its indentation is writeJSON's.
type jsonStream struct {
	w       *bufio.Writer
	next    int                // the position of the next entry to write
	held    map[int]fleetEntry // entries done before next
	written int
	maxHeld int   // the most entries held at once
	err     error // the first failed write: nothing more is written
	done    bool  // finished
}

// testHookJSONHeld, when set, gets a finished stream's maxHeld.
var testHookJSONHeld func(int)

func newJSONStream(w io.Writer) *jsonStream {
	return &jsonStream{w: bufio.NewWriter(w), held: map[int]fleetEntry{}}
}

// add takes entry pos, and writes every entry now in order (none once the
// document is finished).
func (j *jsonStream) add(pos int, fe fleetEntry) {
	if j.done {
		return
	}
	j.held[pos] = fe
	j.maxHeld = max(j.maxHeld, len(j.held))
	for {
		fe, ok := j.held[j.next]
		if !ok {
			return
		}
		delete(j.held, j.next)
		j.next++
		j.write(fe)
	}
}

// write writes one entry of the list.
func (j *jsonStream) write(fe fleetEntry) {
	if j.err != nil {
		return
	}
	var buf bytes.Buffer
	if j.written == 0 {
		buf.WriteString("{\n  \"entries\": [\n    ")
	} else {
		buf.WriteString(",\n    ")
	}
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fe); err != nil {
		j.fail(err)
		return
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	j.written++
	if _, err := j.w.Write(buf.Bytes()); err != nil {
		j.fail(err)
	}
}

func (j *jsonStream) fail(err error) {
	if j.err == nil {
		j.err = err
	}
}

// finish writes what is held (a batch that stopped early leaves gaps:
// the entries it did not reach), the end of the list and the counts, once.
func (j *jsonStream) finish(doc fleetReport) error {
	if j.done {
		return j.err
	}
	j.done = true
	for ; len(j.held) > 0; j.next++ {
		if fe, ok := j.held[j.next]; ok {
			delete(j.held, j.next)
			j.write(fe)
		}
	}
	if j.err == nil {
		if j.written == 0 {
			fmt.Fprint(j.w, "{\n  \"entries\": [],\n")
		} else {
			fmt.Fprint(j.w, "\n  ],\n")
		}
		fmt.Fprintf(j.w, "  \"issued\": %d,\n  \"renewed\": %d,\n  \"skipped\": %d,\n  \"failed\": %d\n}\n",
			doc.Issued, doc.Renewed, doc.Skipped, doc.Failed)
		if err := j.w.Flush(); err != nil {
			j.fail(err)
		}
	}
	if testHookJSONHeld != nil {
		testHookJSONHeld(j.maxHeld)
	}
	return j.err
}
