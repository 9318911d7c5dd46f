package remote

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keywright/keywright/internal/fault"
)

// Target is where to log in, resolved: the spec as the user wrote it, and
// the user, host and port to connect to, with what ssh_config adds.
type Target struct {
	Spec string // as written: "deploy@web:2222", "web" (a Host alias)
	User string
	Host string
	Port int
	// IdentityFiles are ssh_config's IdentityFile values for the target
	// (~ expanded), tried after the agent, as ssh does.
	IdentityFiles []string
	// KnownHosts is ssh_config's UserKnownHostsFile for the target, or "".
	KnownHosts string
}

// Addr is host:port for dialling.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

func (t Target) String() string { return t.User + "@" + t.Addr() }

// Spec is a target as written: [USER@]HOST[:PORT]. Port 0 and User ""
// mean not given.
type Spec struct {
	User string
	Host string
	Port int
}

// ParseSpec reads [USER@]HOST[:PORT]; an IPv6 host with a port goes in
// brackets ([::1]:2222), a bare IPv6 address takes no port.
func ParseSpec(s string) (Spec, error) {
	var sp Spec
	hostport := s
	if at := strings.LastIndex(s, "@"); at >= 0 {
		sp.User, hostport = s[:at], s[at+1:]
		if sp.User == "" {
			return Spec{}, errorf("target %q: empty user name before @", s)
		}
	}
	host, port, err := net.SplitHostPort(hostport)
	switch {
	case err == nil:
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 1 || n > 65535 || strings.Trim(port, "0123456789") != "" {
			return Spec{}, errorf("target %q: port %q: want 1 to 65535", s, port)
		}
		sp.Host, sp.Port = host, n
	case strings.Count(hostport, ":") > 1 && !strings.HasPrefix(hostport, "["):
		sp.Host = hostport // a bare IPv6 address
	case strings.Contains(hostport, ":") && !strings.HasPrefix(hostport, "["),
		strings.HasPrefix(hostport, "[") != strings.HasSuffix(hostport, "]"):
		return Spec{}, errorf("target %q: want [USER@]HOST[:PORT]", s)
	default:
		sp.Host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	}
	if sp.Host == "" || !visible(sp.Host) || strings.ContainsAny(sp.Host, "/@[]") || strings.HasPrefix(sp.Host, "-") ||
		!visible(sp.User) || strings.ContainsAny(sp.User, ":/") || strings.HasPrefix(sp.User, "-") {
		return Spec{}, errorf("target %q: want [USER@]HOST[:PORT]", s)
	}
	return sp, nil
}

// visible reports whether s has no space, control or invisible formatting
// character (a byte order mark, a zero-width space): what would make a
// target read as another, or reach the terminal as an escape sequence.
func visible(s string) bool {
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// HostLine is one target of a hosts file and the line it came from.
type HostLine struct {
	Spec string
	Line int
}

// maxHostsFile caps what a hosts file may hold.
const maxHostsFile = 4 << 20

// ReadHostsFile reads one target per line; blank lines and lines starting
// with # are skipped, and a # after the target starts a comment. Every
// malformed line is reported, as FILE:LINE: reason, and then nothing is
// returned: a run never starts on half a list.
func ReadHostsFile(path string) ([]HostLine, error) {
	data, err := readCapped(path, maxHostsFile)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // as some editors save it
	var hosts []HostLine
	var problems []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxHostsFile)
	for n := 1; sc.Scan(); n++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		switch {
		case len(fields) == 0:
			continue
		case len(fields) > 1:
			problems = append(problems, fmt.Sprintf("%s:%d: one target per line, found %d words", path, n, len(fields)))
			continue
		}
		if _, err := ParseSpec(fields[0]); err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: %s", path, n, fault.Text(err)))
			continue
		}
		hosts = append(hosts, HostLine{Spec: fields[0], Line: n})
	}
	if len(problems) > 0 {
		return nil, &HostsFileError{Problems: problems}
	}
	if len(hosts) == 0 {
		return nil, &HostsFileError{Problems: []string{path + ": no targets in the file"}}
	}
	return hosts, nil
}

// HostsFileError lists every malformed line of a hosts file.
type HostsFileError struct {
	Problems []string // "FILE:LINE: reason", in line order
}

func (e *HostsFileError) Error() string { return strings.Join(e.Problems, "\n") }

// ErrorLines are the problems, one per line, for a caller that prints
// each as its own error line.
func (e *HostsFileError) ErrorLines() []string { return e.Problems }

func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, errorf("%s: %w", path, pe.Err) // "FILE: no such file or directory"
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, errorf("%s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, errorf("%s: larger than %d bytes", path, max)
	}
	return data, nil
}
