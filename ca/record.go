package ca

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// The record of a CA is a JSON Lines file, NAME.db, next to NAME.crt: one
// event per line, appended and fsynced, never rewritten. A person reads it
// with a pager; a program folds it into Entries.
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

// Event is one line of a record.
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
	Reason     string    `json:"reason,omitempty"`
	CRLNumber  int64     `json:"crl_number,omitempty"`
	NextUpdate time.Time `json:"next_update,omitzero"`
}

// Entry is one issued certificate, with its revocation status folded in.
type Entry struct {
	Serial    string    `json:"serial"`
	Subject   string    `json:"subject"`
	SANs      []string  `json:"sans,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Profile   string    `json:"profile"`
	File      string    `json:"file"`
	SHA256    string    `json:"sha256"`
	IssuedAt  time.Time `json:"issued_at"`
	Revoked   bool      `json:"revoked"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Reason    string    `json:"reason,omitempty"`
}

// Record is a CA's record, read into memory.
type Record struct {
	Path      string
	Entries   []*Entry // in the order issued
	CRLNumber int64    // the last CRL number used; 0 before the first CRL
	// Warnings: problems that did not stop the read (a torn last line
	// left by a crash).
	Warnings []string

	bySerial map[string]*Entry
	// torn is the offset of an incomplete last line, or -1: the next
	// Append cuts it off (it is an interrupted write, never a whole event).
	torn int64
}

// ErrRecord is returned for a record that cannot be read or appended to.
var ErrRecord = errors.New("CA record")

// ReadRecord reads the record at path; a missing file is an empty record.
func ReadRecord(path string) (*Record, error) {
	r := &Record{Path: path, bySerial: map[string]*Entry{}, torn: -1}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ca: %w: %w", ErrRecord, err)
	}
	defer f.Close()
	return r, r.parse(f)
}

// parse folds every line of rd into r. A last line without its newline that
// does not parse is a write cut short by a crash: skipped, with a warning.
// Any other bad line is an error naming the line.
func (r *Record) parse(rd io.Reader) error {
	br := bufio.NewReaderSize(rd, 64<<10)
	var offset int64
	for n := 1; ; n++ {
		line, err := readLine(br)
		start := offset
		offset += int64(len(line))
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("ca: %w %s line %d: %w", ErrRecord, r.Path, n, err)
		}
		complete := err == nil
		if len(bytes.TrimSpace(line)) > 0 {
			if perr := r.apply(line); perr != nil {
				if !complete {
					r.Warnings = append(r.Warnings, fmt.Sprintf("%s line %d is incomplete (an interrupted write) and was ignored", r.Path, n))
					r.torn = start
					return nil
				}
				return fmt.Errorf("ca: %w %s line %d: %w", ErrRecord, r.Path, n, perr)
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
			return nil, fmt.Errorf("line longer than %d bytes", maxRecordLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, err
	}
}

// apply folds one event into r.
func (r *Record) apply(line []byte) error {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return fmt.Errorf("not a record event: %w", err)
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
		if r.bySerial[ev.Serial] != nil {
			return fmt.Errorf("serial %s issued twice", ev.Serial)
		}
		e := &Entry{Serial: ev.Serial, Subject: ev.Subject, SANs: ev.SANs, NotBefore: ev.NotBefore,
			NotAfter: ev.NotAfter, Profile: ev.Profile, File: ev.File, SHA256: ev.SHA256, IssuedAt: ev.Time}
		r.Entries = append(r.Entries, e)
		r.bySerial[ev.Serial] = e
	case EventRevoked:
		e := r.bySerial[ev.Serial]
		if e == nil {
			return fmt.Errorf("revocation of serial %q, which this CA did not issue", ev.Serial)
		}
		if !e.Revoked {
			e.Revoked, e.RevokedAt, e.Reason = true, ev.Time, ev.Reason
		}
	case EventCRL:
		if ev.CRLNumber <= r.CRLNumber {
			return fmt.Errorf("CRL number %d does not increase (last %d)", ev.CRLNumber, r.CRLNumber)
		}
		r.CRLNumber = ev.CRLNumber
	default:
		return fmt.Errorf("unknown event %q", ev.Event)
	}
	return nil
}

// Lookup returns the entry for a serial (as FormatSerial writes it), or nil.
func (r *Record) Lookup(serial string) *Entry { return r.bySerial[serial] }

// Append writes ev as one line at the end of the record and fsyncs it (and,
// for a new record, its directory) before returning, so the event is durable
// before anything it describes appears. The caller must hold the CA lock.
// undo removes the line again, for a command that fails after appending.
func (r *Record) Append(ev Event) (undo func() error, err error) {
	line, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("ca: %w: %w", ErrRecord, err)
	}
	if err := r.apply(line); err != nil {
		return nil, fmt.Errorf("ca: %w %s: %w", ErrRecord, r.Path, err)
	}
	fi, statErr := os.Lstat(r.Path)
	if statErr == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("ca: %w %s: not a regular file", ErrRecord, r.Path)
	}
	created := statErr != nil
	f, err := os.OpenFile(r.Path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ca: %w: %w", ErrRecord, err)
	}
	defer f.Close()
	size, err := appendLine(f, line, r.torn)
	if err != nil {
		return nil, fmt.Errorf("ca: %w %s: %w", ErrRecord, r.Path, err)
	}
	r.torn = -1
	if created {
		if err := syncDir(filepath.Dir(r.Path)); err != nil {
			return nil, fmt.Errorf("ca: %w: %w", ErrRecord, err)
		}
	}
	return func() error { return r.truncate(size, created) }, nil
}

// appendLine appends line and syncs, first cutting off a torn last line at
// offset torn (when >= 0). It returns the size the file had without the
// new line, for undo.
func appendLine(f *os.File, line []byte, torn int64) (int64, error) {
	if torn >= 0 {
		if err := f.Truncate(torn); err != nil {
			return 0, err
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	buf := make([]byte, 0, len(line)+2)
	if size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err != nil {
			return 0, err
		}
		if last[0] != '\n' {
			buf = append(buf, '\n')
		}
	}
	buf = append(append(buf, line...), '\n')
	// Mode 0644 whatever the umask: the record holds nothing secret.
	if size == 0 {
		if err := f.Chmod(0o644); err != nil {
			return 0, err
		}
	}
	if _, err := f.Write(buf); err != nil {
		return 0, err
	}
	return size, f.Sync()
}

// truncate undoes an append.
func (r *Record) truncate(size int64, created bool) error {
	if created {
		if err := os.Remove(r.Path); err != nil {
			return fmt.Errorf("ca: %w: %w", ErrRecord, err)
		}
		return syncDir(filepath.Dir(r.Path))
	}
	f, err := os.OpenFile(r.Path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("ca: %w: %w", ErrRecord, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("ca: %w: %w", ErrRecord, err)
	}
	return f.Sync()
}

// syncDir makes a new directory entry durable; Windows cannot fsync a
// directory and journals the entry itself.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
