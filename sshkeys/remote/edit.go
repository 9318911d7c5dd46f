package remote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/sshkeys"
)

// DefaultPath is where ssh-copy-id puts keys: relative to the remote home.
const DefaultPath = ".ssh/authorized_keys"

// maxRemoteFile caps the remote authorized_keys keywright edits.
const maxRemoteFile = 1 << 20

// maxNoise caps what a login script may print before the file.
const maxNoise = 64 << 10

// editAttempts bounds the retries when another edit lands between the read
// and the rename; each waits a random moment, longer each time, so that
// edits racing for one file spread out.
const editAttempts = 10

// Exit codes of remoteScript.
const (
	exitRefused = 3  // a symbolic link or not a regular file
	exitRaced   = 75 // the file changed while keywright edited it
)

// remoteScript runs under sh whatever the login shell is (as ssh-copy-id's
// "exec sh -c"), with the file as $1 and the seconds it may wait for the
// lock as $2 (half the time left, so that a lock left behind by an edit
// killed on the server is reported before --timeout). It prints a header line and the file
// (a snapshot copied with cp -p, so the temporary file already has the
// file's mode and, for root, owner; copied again when another edit replaced
// the file during the copy), reads "keep", or "write SIZE" and the
// new file on stdin; a new file shorter than SIZE (the connection was cut on
// the way: Ctrl-C, kill, a network drop) is never renamed into place. To
// write, it takes a lock (mkdir, atomic on every file system) for the last
// step only: the rename happens only if the file still reads as it did
// (cksum), else it exits 75 and keywright starts again with the file as it
// now is. So no edit of another keywright is lost, and an editor that does
// not take the lock loses nothing unless it writes in the microseconds
// between the check and the rename. A new file and its directory get umask
// 077: 0600 and 0700.
var remoteScript = strings.Join([]string{
	`umask 077; cd || exit 1; f=$1; d=$(dirname -- "$f") || exit 1`,
	`if [ -L "$f" ]; then echo "$f is a symbolic link: refusing to edit it" >&2; exit 3; fi`,
	`if [ -e "$f" ] && [ ! -f "$f" ]; then echo "$f is not a regular file: refusing to edit it" >&2; exit 3; fi`,
	`t=$d/.keywright-tmp.$$; l=$d/.keywright-lock; locked=; before=absent`,
	`trap 'rm -f -- "$t"; if [ -n "$locked" ]; then rmdir -- "$l"; fi' EXIT; trap 'exit 1' HUP INT TERM PIPE`,
	`newtmp() { (set -C; : > "$t") 2>/dev/null || { echo "cannot create a temporary file in $d" >&2; exit 1; }; }`,
	// cp refuses a file another edit renamed over while it was copying it
	// (GNU cp: "replaced while being copied"): copy again, a few times.
	`if [ -f "$f" ]; then newtmp; n=0; until e=$(cp -p -- "$f" "$t" 2>&1); do n=$((n+1)); ` +
		`[ "$n" -lt 5 ] || { echo "$e" >&2; exit 1; }; done; before=$(cksum < "$t") || exit 1; ` +
		`printf '` + headerPrefix + `%s\n' "$(wc -c < "$t" | tr -d ' ')"; cat -- "$t" || exit 1; ` +
		`else printf '` + headerPrefix + `absent\n'; fi`,
	`read -r verb size || exit 1`,
	`[ "$verb" = write ] || exit 0`,
	`if [ "$before" = absent ]; then mkdir -p -- "$d" || exit 1; newtmp; fi`,
	`cat > "$t" || exit 1`,
	`got=$(wc -c < "$t" | tr -d ' ') || exit 1`,
	`[ "$got" = "$size" ] || { echo "the new file arrived incomplete ($got of $size bytes)" >&2; exit 1; }`,
	`n=0; until mkdir -- "$l" 2>/dev/null; do n=$((n+1)); if [ "$n" -gt "$2" ]; then ` +
		`echo "$l is held by another edit (remove it if no keywright runs there)" >&2; exit 1; fi; sleep 1; done; locked=1`,
	`now=absent; if [ -e "$f" ] || [ -L "$f" ]; then now=$(cksum < "$f") || exit 1; fi`,
	`[ "$now" = "$before" ] || { echo "$f changed while keywright edited it" >&2; exit 75; }`,
	`mv -f -- "$t" "$f" || exit 1`,
	`if type restorecon >/dev/null 2>&1; then restorecon -F -- "$d" "$f" >/dev/null 2>&1; fi`,
	`exit 0`,
}, "; ") // one line: csh-family login shells refuse a newline inside quotes

const headerPrefix = "keywright-authorized-keys 1 "

// EditFunc changes an authorized_keys file and says whether it did. It
// may run more than once (on a fresh copy each time).
type EditFunc func(f *sshkeys.AuthorizedKeys) (changed bool, err error)

// errRaced: another edit landed between keywright's read and its rename.
var errRaced = newError("the file changed while keywright edited it")

// Edit applies edit to the authorized_keys file at path on the server
// (relative to the remote home, or absolute), in one SSH session per
// attempt, and says whether the file changed.
func Edit(ctx context.Context, c *ssh.Client, path string, edit EditFunc) (bool, error) {
	for attempt := 1; ; attempt++ {
		changed, err := editOnce(c, path, lockWait(ctx), edit)
		if errors.Is(err, errRaced) && attempt < editAttempts && backoff(ctx, attempt) {
			continue
		}
		if err != nil {
			return false, errorf("editing %s: %w", path, err)
		}
		return changed, nil
	}
}

// backoff waits up to 50 ms per attempt made, at random; false if ctx ends first.
// jitter is a random duration below max, from crypto/rand (keywright uses
// no other source of randomness).
func jitter(max time.Duration) time.Duration {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil || max <= 0 {
		return max / 2
	}
	return time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(max))
}

func backoff(ctx context.Context, attempt int) bool {
	t := time.NewTimer(jitter(time.Duration(attempt) * 50 * time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// lockWait is how many seconds the script may wait for the lock: half the
// time left, at least 1.
func lockWait(ctx context.Context) int {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 30
	}
	return max(1, int(time.Until(deadline)/2/time.Second))
}

func editOnce(c *ssh.Client, path string, lockWait int, edit EditFunc) (bool, error) {
	s, err := c.NewSession()
	if err != nil {
		return false, err
	}
	defer s.Close()
	var stderr bytes.Buffer
	s.Stderr = &capped{buf: &stderr, max: 4096}
	stdin, err := s.StdinPipe()
	if err != nil {
		return false, err
	}
	stdout, err := s.StdoutPipe()
	if err != nil {
		return false, err
	}
	if err := s.Start("exec sh -c " + shellQuote(remoteScript) + " keywright " + shellQuote(path) + " " + strconv.Itoa(lockWait)); err != nil {
		return false, err
	}
	out := bufio.NewReader(stdout)
	current, err := readCurrent(out)
	var stop stoppedReading
	if errors.As(err, &stop) {
		return false, stop.error // Close (deferred) cuts off a script still writing
	}
	if err != nil {
		stdin.Close()
		waitErr := s.Wait()
		if serr := scriptError(waitErr, &stderr, err); stderr.Len() > 0 || errors.Is(serr, errRaced) {
			return false, serr // the script said why it stopped
		}
		var early *endedEarly
		if errors.As(err, &early) {
			return false, early.explain(waitErr)
		}
		return false, err
	}
	f := sshkeys.ParseAuthorizedKeys(current)
	changed, editErr := edit(f)
	data := f.Bytes()
	if editErr == nil && changed && len(data) > maxRemoteFile {
		// keywright could not edit it again, not even to take this line out
		editErr = errorf("the file would grow past %d bytes", maxRemoteFile)
	}
	werr := send(stdin, editErr == nil && changed, data)
	stdin.Close()
	_, _ = io.Copy(io.Discard, out)
	if err := scriptError(s.Wait(), &stderr, werr); err != nil || editErr != nil {
		return false, errors.Join(editErr, err)
	}
	return changed, nil
}

// send answers the script: "keep", or "write SIZE" and the new file.
func send(stdin io.Writer, write bool, data []byte) error {
	if !write {
		_, err := io.WriteString(stdin, "keep\n")
		return err
	}
	if _, err := fmt.Fprintf(stdin, "write %d\n", len(data)); err != nil {
		return err
	}
	_, err := stdin.Write(data)
	return err
}

// readCurrent skips what a login script printed, then reads the header
// and the file it announces (nil when there is none).
func readCurrent(out *bufio.Reader) ([]byte, error) {
	noise, said := 0, ""
	for {
		line, err := readLine(out, maxNoise+len(headerPrefix)+32)
		if errors.Is(err, errTooMuch) {
			return nil, stoppedReading{err}
		}
		if t := strings.TrimSpace(line); t != "" {
			said = t[:min(len(t), 200)]
		}
		if err != nil {
			return nil, &endedEarly{said: said}
		}
		if i := strings.Index(line, headerPrefix); i >= 0 { // after noise without a newline
			return readBody(out, strings.TrimSpace(line[i+len(headerPrefix):]))
		}
		if noise += len(line); noise > maxNoise {
			return nil, stoppedReading{errTooMuch}
		}
	}
}

var errTooMuch = newError("the remote shell printed too much before the file (a login script writing to stdout?)")

// readLine reads up to a newline, at most max bytes (errTooMuch beyond):
// a server printing without end is not kept in memory.
func readLine(out *bufio.Reader, max int) (string, error) {
	var line []byte
	for {
		chunk, err := out.ReadSlice('\n')
		if line = append(line, chunk...); len(line) > max {
			return "", errTooMuch
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return string(line), err
		}
	}
}

// endedEarly: the remote side closed its output before the file, having
// printed said last (nologin's message), or nothing.
type endedEarly struct{ said string }

func (e *endedEarly) Error() string { return "the remote side ended before sending the file" }

// explain adds what is known of why: what it printed, or its exit status.
func (e *endedEarly) explain(waitErr error) error {
	var exit *ssh.ExitError
	switch {
	case e.said != "":
		return errorf("%v (it said %q)", e, e.said)
	case errors.As(waitErr, &exit) && exit.ExitStatus() != 0:
		return errorf("%v (exit status %d: does the account's login shell run commands?)", e, exit.ExitStatus())
	}
	return e
}

// stoppedReading: keywright gave up on what the remote side sends while
// it may still be sending (a file too large to buffer): the session is
// closed at once instead of waited for, and this is the reason.
type stoppedReading struct{ error }

func readBody(out *bufio.Reader, size string) ([]byte, error) {
	if size == "absent" {
		return nil, nil
	}
	n, err := strconv.Atoi(size)
	if err != nil || n < 0 {
		return nil, stoppedReading{errorf("the remote side sent a bad size %q", size)}
	}
	if n > maxRemoteFile {
		return nil, stoppedReading{errorf("the file is larger than %d bytes", maxRemoteFile)}
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(out, data); err != nil {
		return nil, newError("the remote side ended in the middle of the file")
	}
	return data, nil
}

// scriptError turns the remote script's exit into an error that says why.
func scriptError(waitErr error, stderr *bytes.Buffer, fallback error) error {
	var exit *ssh.ExitError
	if !errors.As(waitErr, &exit) {
		if waitErr != nil {
			return waitErr
		}
		return fallback
	}
	msg := strings.TrimSpace(lastLine(stderr.String()))
	switch {
	case exit.ExitStatus() == exitRaced:
		return errRaced
	case msg == "":
		return errorf("the remote command exited with status %d", exit.ExitStatus())
	}
	return newError(msg)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// capped keeps the first max bytes written to it.
type capped struct {
	buf *bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
