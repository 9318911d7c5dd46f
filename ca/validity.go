package ca

import (
	"crypto/x509"
	"fmt"
	"time"
)

// Validity rules (README "Certificate authority").
const (
	// Backdate is how far not-before lies in the past, for clocks that lag.
	Backdate = 5 * time.Minute
	// DefaultLeafDays is a leaf's validity when --days is not given.
	DefaultLeafDays = 90
	// WarnLeafDays: longer leaves get a warning (CA/B Forum's 200-day limit
	// from 2026-03-15; private CAs are not bound by it, but clients may be).
	WarnLeafDays = 200
	// MaxLeafDays is Apple's limit for TLS server certificates (iOS 13,
	// macOS 10.15), which applies to private CAs too.
	MaxLeafDays = 825
	// MaxCADays bounds a CA's validity: 30 years (as an SSH certificate's,
	// sshkeys.MaxCertDays), far from where days*24h would overflow.
	MaxCADays = 30 * 365
	// MaxCRLDays bounds the time until a CRL's next update.
	MaxCRLDays = 3650
	// DefaultRootYears and DefaultIntermediateYears are CA lifetimes.
	DefaultRootYears         = 10
	DefaultIntermediateYears = 5
)

// Errors of the validity rules.
var (
	ErrValidity       = newError("validity refused")
	ErrCAExpired      = newError("the CA has expired")
	ErrCANotYetValid  = newError("the CA is not valid yet")
	ErrOutlivesIssuer = newError("the certificate would outlive its issuer")
)

// Window is a certificate's validity period.
type Window struct {
	NotBefore, NotAfter time.Time
}

// Days is the length of the period in whole days (RFC 5280 §4.1.2.5: both
// ends are inclusive).
func (w Window) Days() int {
	return int(w.NotAfter.Add(time.Second).Sub(w.NotBefore) / (24 * time.Hour))
}

// windowDays is a period of days days: not-before Backdate before now,
// not-after one second short of days*24h later, both on whole seconds.
func windowDays(now time.Time, days int) Window {
	nb := now.Add(-Backdate).Truncate(time.Second).UTC()
	return Window{NotBefore: nb, NotAfter: nb.Add(time.Duration(days)*24*time.Hour - time.Second)}
}

// windowYears is a period of years calendar years.
func windowYears(now time.Time, years int) Window {
	nb := now.Add(-Backdate).Truncate(time.Second).UTC()
	return Window{NotBefore: nb, NotAfter: nb.AddDate(years, 0, 0).Add(-time.Second)}
}

// leafWindow applies the leaf rules: default 90 days, at least 1, at most
// 825; a warning over 200.
func leafWindow(now time.Time, days int) (Window, []string, error) {
	if days == 0 {
		days = DefaultLeafDays
	}
	var warnings []string
	switch {
	case days < 1:
		return Window{}, nil, errorf("%w: %d days: a certificate must be valid for at least 1 day", ErrValidity, days)
	case days > MaxLeafDays:
		return Window{}, nil, errorf("%w: %d days: leaf certificates may be valid for at most %d days (Apple's limit for TLS)", ErrValidity, days, MaxLeafDays)
	case days > WarnLeafDays:
		warnings = append(warnings, fmt.Sprintf("a %d-day certificate is longer than %d days; browsers and public CAs are moving to shorter lifetimes", days, WarnLeafDays))
	}
	return windowDays(now, days), warnings, nil
}

// caWindow is a CA's period: days if given, else years.
func caWindow(now time.Time, days, years int) (Window, error) {
	if days < 0 || (days == 0 && years <= 0) {
		return Window{}, errorf("%w: %d days: a CA must be valid for at least 1 day", ErrValidity, days)
	}
	if days > MaxCADays {
		return Window{}, errorf("%w: %d days: a CA may be valid for at most %d days (30 years)", ErrValidity, days, MaxCADays)
	}
	if days > 0 {
		return windowDays(now, days), nil
	}
	return windowYears(now, years), nil
}

// checkIssuerTime refuses a CA chain that is not valid at now, or a window
// that ends after any certificate of the chain.
func checkIssuerTime(name string, chain []*x509.Certificate, now time.Time, w Window) error {
	for _, c := range chain {
		who := fmt.Sprintf("CA %q", name)
		if c != chain[0] {
			who = fmt.Sprintf("CA %q (via %q)", c.Subject.CommonName, name)
		}
		switch {
		case now.After(c.NotAfter):
			return errorf("%w: %s expired on %s and signs nothing", ErrCAExpired, who, day(c.NotAfter))
		case now.Before(c.NotBefore):
			return errorf("%w: %s is valid from %s only", ErrCANotYetValid, who, c.NotBefore.UTC().Format(time.RFC3339))
		case w.NotAfter.After(c.NotAfter):
			most := Window{NotBefore: w.NotBefore, NotAfter: c.NotAfter}.Days()
			return errorf("%w: it would end on %s, after %s ends on %s (at most %d days are possible)",
				ErrOutlivesIssuer, day(w.NotAfter), who, day(c.NotAfter), most)
		}
	}
	return nil
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
