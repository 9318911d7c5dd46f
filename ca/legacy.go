package ca

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Before the record database (db.go), each CA kept a JSON Lines file,
// NAME.db, next to NAME.crt: one event per line. A store that still has one
// is imported into the database once (importLegacy), and the file is left
// as it was. The same lines are what `ca log --json` prints today.
//
//	{"event":"issued","time":...,"serial":"01ab..","subject":"CN=web","sans":["web.test"],
//	 "not_before":...,"not_after":...,"profile":"server","file":"web.crt","sha256":"..."}
//	{"event":"revoked","time":...,"serial":"01ab..","reason":"key-compromise"}
//	{"event":"crl","time":...,"crl_number":1,"next_update":...}

// Event kinds.
const (
	EventIssued  = "issued"
	EventRevoked = "revoked"
	EventCRL     = "crl"
)

// maxRecordLine bounds one line of a record (a certificate with 100 SANs
// fits easily).
const maxRecordLine = 1 << 20

// Event is one event of a record, as `ca log --json` prints it.
type Event struct {
	Event      string    `json:"event"`
	Time       time.Time `json:"time"`
	Serial     string    `json:"serial,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	SANs       []string  `json:"sans,omitempty"`
	NotBefore  time.Time `json:"not_before,omitzero"`
	NotAfter   time.Time `json:"not_after,omitzero"`
	Profile    string    `json:"profile,omitempty"`
	File       string    `json:"file,omitempty"`
	SHA256     string    `json:"sha256,omitempty"`
	Renews     string    `json:"renews,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	CRLNumber  int64     `json:"crl_number,omitempty"`
	NextUpdate time.Time `json:"next_update,omitzero"`
}

// Entry is one issued certificate, with its revocation status folded in.
type Entry struct {
	CA        string    `json:"ca"`
	Serial    string    `json:"serial"`
	Name      string    `json:"name"`
	Subject   string    `json:"subject"`
	SANs      []string  `json:"sans,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Profile   string    `json:"profile"`
	File      string    `json:"file"`
	SHA256    string    `json:"sha256"`
	IssuedAt  time.Time `json:"issued_at"`
	Renews    string    `json:"renews,omitempty"`
	Revoked   bool      `json:"revoked"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	// Damaged is why the entry could not be read completely (a
	// *DamagedError, named by the record), for the listings that carry on
	// past it: the certificate's status is then unknown. Nil otherwise.
	Damaged error `json:"-"`
}

// legacyRecord is a JSON Lines record read and checked, ready to import.
type legacyRecord struct {
	Path      string
	Events    []Event
	CRLNumber int64
	Warnings  []string // a torn last line left by a crash
	issued    map[string]bool
}

// readLegacy reads and checks the JSON Lines record at path.
func readLegacy(path string) (*legacyRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errorf("%w: %w", ErrRecord, err)
	}
	defer f.Close()
	r := &legacyRecord{Path: path, issued: map[string]bool{}}
	return r, r.parse(f)
}

// parse folds every line of rd into r. A last line without its newline that
// does not parse is a write cut short by a crash: skipped, with a warning.
// Any other bad line is an error naming the line.
func (r *legacyRecord) parse(rd io.Reader) error {
	br := bufio.NewReaderSize(rd, 64<<10)
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return errorf("%w %s line %d: %w", ErrRecord, r.Path, n, err)
		}
		complete := err == nil
		if len(bytes.TrimSpace(line)) > 0 {
			if perr := r.apply(line); perr != nil {
				if !complete {
					r.Warnings = append(r.Warnings, fmt.Sprintf("%s line %d is incomplete (an interrupted write) and was ignored", r.Path, n))
					return nil
				}
				return errorf("%w %s line %d: %w", ErrRecord, r.Path, n, perr)
			}
		}
		if !complete {
			return nil
		}
	}
}

// readLine reads one line up to maxRecordLine; io.EOF means the line (maybe
// empty) had no newline.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxRecordLine {
			return nil, errorf("line longer than %d bytes", maxRecordLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, err
	}
}

// apply checks one event against the ones before it and keeps it.
func (r *legacyRecord) apply(line []byte) error {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return errorf("not a record event: %w", err)
	}
	if ev.Event == EventIssued || ev.Event == EventRevoked {
		n, err := ParseSerial(ev.Serial)
		if err != nil {
			return err
		}
		ev.Serial = FormatSerial(n) // one spelling, whoever wrote the line
	}
	switch ev.Event {
	case EventIssued:
		if r.issued[ev.Serial] {
			return errorf("serial %s issued twice", ev.Serial)
		}
		r.issued[ev.Serial] = true
	case EventRevoked:
		if !r.issued[ev.Serial] {
			return errorf("revocation of serial %q, which this CA did not issue", ev.Serial)
		}
	case EventCRL:
		if ev.CRLNumber <= r.CRLNumber {
			return errorf("CRL number %d does not increase (last %d)", ev.CRLNumber, r.CRLNumber)
		}
		r.CRLNumber = ev.CRLNumber
	default:
		return errorf("unknown event %q", ev.Event)
	}
	r.Events = append(r.Events, ev)
	return nil
}
