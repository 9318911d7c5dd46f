package remote

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// ErrSSHConfig: an ssh_config file keywright cannot read: a line that does
// not parse, or Match, which it does not support.
var ErrSSHConfig = newError("a line does not parse, or uses Match, which keywright does not read")

// Config is the ssh_config files a target is resolved against, first file
// first: the first value found for a keyword wins, as in OpenSSH.
type Config struct {
	files []configFile
	home  string // for ~ in paths: the passwd home, as OpenSSH expands it
}

type configFile struct {
	path string
	cfg  *ssh_config.Config
}

// maxConfigFile caps an ssh_config file.
const maxConfigFile = 1 << 20

// LoadConfig parses the given ssh_config files in order. A file in optional
// that does not exist is skipped (a user without ~/.ssh/config); one in
// required must exist. home expands ~ in IdentityFile and
// UserKnownHostsFile.
func LoadConfig(home string, required, optional []string) (*Config, error) {
	c := &Config{home: home}
	load := func(path string, mustExist bool) error {
		data, err := readCapped(path, maxConfigFile)
		if errors.Is(err, os.ErrNotExist) && !mustExist {
			return nil
		}
		if err != nil {
			return errorf("ssh config %w", err)
		}
		cfg, err := ssh_config.Decode(bytes.NewReader(data))
		if err != nil {
			// ssh_config's words name its package and a (line, column).
			return errorf("ssh config %s: %w", path, ErrSSHConfig)
		}
		c.files = append(c.files, configFile{path, cfg})
		return nil
	}
	for _, p := range required {
		if err := load(p, true); err != nil {
			return nil, err
		}
	}
	for _, p := range optional {
		if err := load(p, false); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Config) get(alias, key string) (string, string, error) {
	for _, f := range c.files {
		v, err := f.cfg.Get(alias, key)
		if err != nil {
			return "", f.path, errorf("ssh config %s: %s: %w", f.path, key, err)
		}
		if v != "" {
			return v, f.path, nil
		}
	}
	return "", "", nil
}

func (c *Config) getAll(alias, key string) ([]string, error) {
	var all []string
	for _, f := range c.files {
		v, err := f.cfg.GetAll(alias, key)
		if err != nil {
			return nil, errorf("ssh config %s: %s: %w", f.path, key, err)
		}
		all = append(all, v...)
	}
	return all, nil
}

// Resolve turns a spec into a Target: HostName, User, Port, IdentityFile
// and UserKnownHostsFile come from the config for the alias, as ssh -G
// would give them; a user or port in the spec beats the config, and the
// user defaults to localUser. A proxy is refused: keywright connects
// directly.
func (c *Config) Resolve(spec, localUser string) (Target, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return Target{}, err
	}
	t := Target{Spec: spec, User: sp.User, Host: sp.Host, Port: sp.Port}
	if c == nil {
		c = &Config{}
	}
	alias := sp.Host
	for _, key := range []string{"ProxyJump", "ProxyCommand"} {
		v, file, err := c.get(alias, key)
		if err != nil {
			return Target{}, err
		}
		if v != "" && !strings.EqualFold(v, "none") {
			return Target{}, errorf("target %q: %s in %s is not supported: keywright connects directly; give the host it reaches as the target", spec, key, file)
		}
	}
	if err := c.resolveAddress(&t, alias, sp, localUser); err != nil {
		return Target{}, err
	}
	if err := c.resolveFiles(&t, alias, localUser); err != nil {
		return Target{}, err
	}
	return t, nil
}

func (c *Config) resolveAddress(t *Target, alias string, sp Spec, localUser string) error {
	name, _, err := c.get(alias, "HostName")
	if err != nil {
		return err
	}
	if name != "" {
		t.Host = strings.ReplaceAll(name, "%h", alias)
	}
	if t.User == "" {
		if t.User, _, err = c.get(alias, "User"); err != nil {
			return err
		}
	}
	if t.User == "" {
		t.User = localUser
	}
	if t.User == "" {
		return errorf("target %q: no user name: write USER@HOST", t.Spec)
	}
	if t.Port == 0 {
		port, file, err := c.get(alias, "Port")
		if err != nil {
			return err
		}
		t.Port = 22
		if port != "" {
			n, perr := strconv.Atoi(port)
			if perr != nil || n < 1 || n > 65535 {
				return errorf("ssh config %s: Port %q for %s: want 1 to 65535", file, port, alias)
			}
			t.Port = n
		}
	}
	return nil
}

func (c *Config) resolveFiles(t *Target, alias, localUser string) error {
	ids, err := c.getAll(alias, "IdentityFile")
	if err != nil {
		return err
	}
	for _, id := range ids {
		t.IdentityFiles = append(t.IdentityFiles, c.expand(id, t, alias, localUser))
	}
	known, _, err := c.get(alias, "UserKnownHostsFile")
	if err != nil {
		return err
	}
	if fields := strings.Fields(known); len(fields) > 0 && fields[0] != "none" {
		t.KnownHosts = c.expand(fields[0], t, alias, localUser)
	}
	return nil
}

// expand replaces ~ and the tokens ssh_config allows in file names that a
// target knows: %d (local home), %u (local user), %r (remote user), %h
// (host), %n (alias), %p (port), %% (a percent sign).
func (c *Config) expand(path string, t *Target, alias, localUser string) string {
	if c.home != "" && (path == "~" || strings.HasPrefix(path, "~/")) {
		path = filepath.Join(c.home, path[1:])
	}
	r := strings.NewReplacer("%%", "%", "%d", c.home, "%u", localUser, "%r", t.User, "%h", t.Host,
		"%n", alias, "%p", strconv.Itoa(t.Port))
	return r.Replace(path)
}
