package ca

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keywright/keywright/store"
)

// Revoked records the revocation of serial (as FormatSerial writes it) and
// returns its entry, revoked.
func (r *Record) Revoked(ctx context.Context, serial, reason string, at time.Time) (*Entry, error) {
	var e *Entry
	err := r.db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = scanEntry(tx.QueryRowContext(ctx, "SELECT "+entryColumns+" WHERE c.ca_id = ? AND c.serial = ?", r.id, serial))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return errorf("serial %s: %w %s (see %s)", serial, ErrNotIssued, r.CA, r.Path)
		case err != nil:
			return err
		case e.Revoked:
			return errorf("serial %s (%s): %w on %s", serial, e.File, ErrAlreadyRevoked, e.RevokedAt.Format(time.RFC3339))
		}
		if _, err := tx.ExecContext(ctx, "UPDATE certificates SET revoked_at = ?, reason = ? WHERE ca_id = ? AND serial = ?",
			at.Unix(), reason, r.id, serial); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO events (ca_id, kind, at, serial, reason) VALUES (?, ?, ?, ?, ?)",
			r.id, EventRevoked, at.Unix(), serial, reason)
		return err
	})
	if err != nil {
		return nil, err
	}
	e.Revoked, e.RevokedAt, e.Reason = true, unix(at.Unix()), reason
	return e, nil
}

// CRLDraft is what a CRL is made from: its number and the revoked entries.
type CRLDraft struct {
	Number  int64
	Revoked []*Entry
}

// NextCRL is what the CA's next CRL is made from: the next CRL number and
// every revoked entry. The caller holds the CA lock, so the number stays
// free until IssuedCRL records it.
func (r *Record) NextCRL(ctx context.Context) (CRLDraft, error) {
	var d CRLDraft
	if err := r.db.sql.QueryRowContext(ctx, "SELECT crl_number FROM cas WHERE id = ?", r.id).Scan(&d.Number); err != nil {
		return d, r.db.err(err)
	}
	d.Number++
	err := r.db.eachEntry(ctx, func(e *Entry) error {
		d.Revoked = append(d.Revoked, e)
		return nil
	}, "WHERE c.ca_id = ? AND c.revoked_at IS NOT NULL ORDER BY c.id", r.id)
	return d, err
}

// IssuedCRL records CRL number (which must be the one NextCRL gave) and its
// nextUpdate. undo takes it back, for a command whose CRL file could not be
// placed.
func (r *Record) IssuedCRL(ctx context.Context, number int64, at, next time.Time, pending []store.Pending) (undo func() error, err error) {
	err = r.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE cas SET crl_number = ? WHERE id = ? AND crl_number = ?", number, r.id, number-1)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errorf("%w %s: CRL number %d of CA %s is taken", ErrRecord, r.Path, number, r.CA)
		}
		if _, err = tx.ExecContext(ctx, "INSERT INTO events (ca_id, kind, at, crl_number, next_update) VALUES (?, ?, ?, ?, ?)",
			r.id, EventCRL, at.Unix(), number, next.Unix()); err != nil {
			return err
		}
		return r.db.insertPending(ctx, tx, pending)
	})
	if err != nil {
		return nil, err
	}
	return r.db.undo(ctx, pending, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM events WHERE ca_id = ? AND kind = ? AND crl_number = ?", r.id, EventCRL, number); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE cas SET crl_number = ? WHERE id = ?", number-1, r.id)
		return err
	}), nil
}

// Events calls fn with each event of the CA, oldest first, as `ca log`
// prints them: an issued event carries the certificate's fields.
func (r *Record) Events(ctx context.Context, fn func(Event) error) error {
	rows, err := r.db.sql.QueryContext(ctx, `SELECT e.kind, e.at, e.serial, e.reason, e.crl_number, e.next_update,
		c.subject, c.sans, c.not_before, c.not_after, c.profile, c.file, c.sha256, c.renews
		FROM events e LEFT JOIN certificates c ON c.ca_id = e.ca_id AND c.serial = e.serial AND e.kind = 'issued'
		WHERE e.ca_id = ? ORDER BY e.id`, r.id)
	if err != nil {
		return r.db.err(err)
	}
	defer rows.Close()
	for rows.Next() {
		ev, err := scanEvent(rows, r.CA)
		if err != nil {
			return r.db.err(err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	return r.db.err(rows.Err())
}

// scanEvent reads one row of Events' query. Every value is read as text and
// checked, so a wrong value is a *DamagedError naming the event, not a
// failed query.
func scanEvent(rows *sql.Rows, ca string) (Event, error) {
	var v [14]sql.NullString
	dst := make([]any, len(v))
	for i := range v {
		dst[i] = &v[i]
	}
	if err := rows.Scan(dst...); err != nil {
		return Event{}, err
	}
	ev := Event{Event: v[0].String, Serial: v[2].String, Reason: v[3].String}
	var problems []string
	num := func(col string, s sql.NullString) int64 {
		n, err := strconv.ParseInt(s.String, 10, 64)
		if s.Valid && err != nil {
			problems = append(problems, fmt.Sprintf("%s: %q is not a number", col, s.String))
		}
		return n
	}
	ev.Time, ev.CRLNumber = unix(num("at", v[1])), num("crl_number", v[4])
	if v[5].Valid {
		ev.NextUpdate = unix(num("next_update", v[5]))
	}
	if ev.Event == EventIssued && v[6].Valid {
		ev.Subject, ev.Profile, ev.File, ev.SHA256, ev.Renews = v[6].String, v[10].String, v[11].String, v[12].String, v[13].String
		ev.NotBefore, ev.NotAfter = unix(num("not_before", v[8])), unix(num("not_after", v[9]))
		if err := jsonStrings(v[7].String, &ev.SANs); err != nil {
			problems = append(problems, "sans: not a JSON array of names")
		}
	}
	if len(problems) == 0 {
		return ev, nil
	}
	what := ev.File
	if what == "" {
		what = "of a " + ev.Event + " event"
	}
	return ev, &DamagedError{CA: ca, Serial: ev.Serial, File: what, Detail: strings.Join(problems, "; ")}
}
