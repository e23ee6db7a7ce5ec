package email

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// RelaySpec is one line of a relays file: a relay and its share.
type RelaySpec struct {
	Config Config
	Weight int     // share of the messages relative to the others' (default 1)
	Rate   float64 // messages per second through this relay (0: unlimited)
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseRelays reads a relays file (name is used in errors): one relay per
// line, blank lines and lines starting with '#' ignored,
//
//	URL [weight=N] [rate=R] [password-env=VAR] [provider=P]
//
// URL as ParseURL takes it; weight a whole number from 1 to 1000 (default
// 1); rate messages per second, a positive number (default unlimited);
// password-env the environment variable that holds the password of the
// URL's user (read through getenv; never in the file and the URL both);
// provider as ParseURL's provider= parameter. Errors name the file, the
// line and the field (FILE:LINE: FIELD: reason) and never quote a password
// or a user name.
func ParseRelays(name string, r io.Reader, getenv func(string) string) ([]RelaySpec, error) {
	var out []RelaySpec
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		bad := func(field, format string, args ...any) ([]RelaySpec, error) {
			return nil, fmt.Errorf("%s:%d: %s: %s", name, line, field, fmt.Sprintf(format, args...))
		}
		fields := strings.Fields(text)
		cfg, err := ParseURL(fields[0])
		if err != nil {
			return bad("url", "%s", strings.TrimPrefix(err.Error(), "email: "))
		}
		spec := RelaySpec{Weight: 1}
		given := map[string]bool{}
		for _, f := range fields[1:] {
			key, val, ok := strings.Cut(f, "=")
			if !ok || val == "" {
				return bad("field "+strconv.Itoa(len(given)+2), "want KEY=VALUE (weight, rate, password-env or provider)")
			}
			if given[key] {
				return bad(key, "given twice")
			}
			given[key] = true
			switch key {
			case "weight":
				n, err := strconv.Atoi(val)
				if err != nil || n < 1 || n > 1000 {
					return bad(key, "%q is not a whole number from 1 to 1000", val)
				}
				spec.Weight = n
			case "rate":
				r, err := strconv.ParseFloat(val, 64)
				if err != nil || !(r > 0) || r > 1e6 {
					return bad(key, "%q is not a positive number of messages per second", val)
				}
				spec.Rate = r
			case "password-env":
				if !envName.MatchString(val) {
					return bad(key, "%q is not an environment variable name", val)
				}
				if cfg.Username == "" {
					return bad(key, "the url names no user")
				}
				if cfg.Password != "" {
					return bad(key, "the url holds a password already")
				}
				cfg.Password = getenv(val)
				if cfg.Password == "" {
					return bad(key, "%s is not set", val)
				}
			case "provider":
				p, err := ParseProvider(val)
				if err != nil {
					return bad(key, "%v", err)
				}
				cfg.Provider = p
			default:
				return bad(key, "unknown field (want weight, rate, password-env or provider)")
			}
		}
		ep := cfg.endpoint()
		if prev, dup := seen[ep]; dup {
			return bad("url", "%s is line %d's relay again", ep, prev)
		}
		seen[ep] = line
		spec.Config = cfg
		out = append(out, spec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no relay in the file", name)
	}
	return out, nil
}
