package store

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

const maxNameLen = 253

var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// ValidateName checks a result or baseline name: lowercase letters, digits,
// '-' and '.', starting and ending with a letter or digit, at most 253
// characters (a DNS-1123 subdomain, as Kubernetes names are).
func ValidateName(name string) error {
	if len(name) > maxNameLen {
		return fmt.Errorf("invalid name %q: at most %d characters", name, maxNameLen)
	}
	if !nameRE.MatchString(name) {
		return fmt.Errorf("invalid name %q: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit", name)
	}
	return nil
}

// GenerateName is <host-or-svc>-<yyyymmdd-hhmmss> for a run against target
// started at start (UTC).
func GenerateName(target string, start time.Time) string {
	prefix := sanitize(targetHost(target))
	if prefix == "" {
		prefix = "result"
	}
	// Room for the time stamp and a collision suffix.
	if max := maxNameLen - len("-20060102-150405-999"); len(prefix) > max {
		prefix = strings.TrimRight(prefix[:max], "-.")
	}
	return prefix + "-" + start.UTC().Format("20060102-150405")
}

// targetHost is NAME for svc/NAME[:PORT] and the host of a URL; a
// Service's DNS name keeps NAME.NAMESPACE, which says all the rest does.
func targetHost(target string) string {
	if rest, ok := strings.CutPrefix(target, "svc/"); ok {
		name, _, _ := strings.Cut(rest, ":")
		return name
	}
	if u, err := url.Parse(target); err == nil && u.Host != "" {
		host := strings.ToLower(u.Hostname())
		for _, suffix := range []string{".svc.cluster.local", ".svc"} {
			if name, ok := strings.CutSuffix(host, suffix); ok {
				return name
			}
		}
		return host
	}
	return target
}

// sanitize maps s onto the name alphabet: lowercase, anything else becomes
// '-', runs of '-' collapse, and the ends are trimmed.
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.':
			b.WriteRune(c)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-.")
}
