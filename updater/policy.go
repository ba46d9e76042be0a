package updater

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-version"
)

// Policy is what a node allows. Everything here is data; Decide is a pure
// function of a Policy, the installed version, a verified manifest, the
// state and the time.
type Policy struct {
	Channel    string  // "stable" (only stable releases) or "beta" (beta and stable)
	Constraint string  // go-version constraint such as "~> 1.4"; empty: any
	Window     *Window // maintenance window; nil: any time
	NodeID     string  // rollout bucket input
	AutoUpdate bool    // false: automatic runs do nothing (dmgcmd -toffau)
	Pinned     string  // version pinned by the control plane; empty: none
	GOOS       string
	GOARCH     string
}

// Request says who asks: the service on its schedule, or an admin.
type Request struct {
	Manual       bool // `shir update apply`: ignores AutoUpdate and the rollout bucket
	IgnoreWindow bool // `--ignore-window`
	Version      string
}

// Decide returns nil if m may be installed over current now, or an error
// wrapping exactly one refusal sentinel.
func Decide(p Policy, req Request, current string, m Manifest, st State, now time.Time) error {
	v := m.SemVer()
	if now.Before(m.NotBefore) {
		return fmt.Errorf("%s: %w (notBefore %s)", m.Version, ErrNotYetValid, m.NotBefore.UTC().Format(time.RFC3339))
	}
	if !now.Before(m.Expires) {
		return fmt.Errorf("%s: %w (expired %s)", m.Version, ErrExpired, m.Expires.UTC().Format(time.RFC3339))
	}
	if newest := st.NewestPublished(m.Channel); m.Published.Before(newest) {
		return fmt.Errorf("%s: %w: published %s, newest seen %s", m.Version, ErrFrozen,
			m.Published.UTC().Format(time.RFC3339), newest.UTC().Format(time.RFC3339))
	}
	if !channelAccepts(p.Channel, m.Channel) {
		return fmt.Errorf("%s: %w: release channel %q, node channel %q", m.Version, ErrChannel, m.Channel, p.Channel)
	}
	if _, err := m.Artifact(p.GOOS, p.GOARCH); err != nil {
		return err
	}
	if st.IsBad(m.Version) {
		return fmt.Errorf("%s: %w", m.Version, ErrMarkedBad)
	}
	if req.Version != "" && !sameVersion(req.Version, v) {
		return fmt.Errorf("%s: %w: requested %s", m.Version, ErrVersionMissing, req.Version)
	}
	if p.Pinned != "" && !sameVersion(p.Pinned, v) {
		return fmt.Errorf("%s: %w (%s)", m.Version, ErrPinned, p.Pinned)
	}
	cur, err := version.NewSemver(current)
	if err != nil {
		return fmt.Errorf("installed version %q: not a semantic version", current)
	}
	switch c := v.Compare(cur); {
	case c == 0:
		return fmt.Errorf("%s: %w", m.Version, ErrUpToDate)
	case c < 0 && !m.Rollback:
		return fmt.Errorf("%s: %w (installed %s, and the manifest is not a signed rollback)", m.Version, ErrDowngrade, current)
	}
	if p.Constraint != "" {
		cs, err := version.NewConstraint(p.Constraint)
		if err != nil {
			return fmt.Errorf("constraint %q: %v", p.Constraint, err)
		}
		if !cs.Check(v) {
			return fmt.Errorf("%s: %w %q", m.Version, ErrConstraint, p.Constraint)
		}
	}
	if !req.Manual {
		if !p.AutoUpdate {
			return fmt.Errorf("%s: %w", m.Version, ErrAutoUpdateOff)
		}
		if b := Bucket(p.NodeID); b >= m.Rollout {
			return fmt.Errorf("%s: %w: rollout %d%%, node bucket %d", m.Version, ErrNotInRollout, m.Rollout, b)
		}
	}
	if p.Window != nil && !req.IgnoreWindow && !p.Window.Contains(now) {
		return fmt.Errorf("%s: %w %s (next opens %s)", m.Version, ErrOutsideWindow, p.Window,
			p.Window.NextOpen(now).Format("Mon 2006-01-02 15:04 MST"))
	}
	return nil
}

func channelAccepts(node, release string) bool {
	switch node {
	case "beta":
		return release == "beta" || release == "stable"
	default:
		return release == "stable"
	}
}

func sameVersion(s string, v *version.Version) bool {
	w, err := version.NewSemver(s)
	return err == nil && w.Equal(v)
}

// Bucket maps a node ID to 0..99. A release with rollout R reaches the nodes
// whose bucket is below R, so raising R only adds nodes, and the same nodes
// are always the first (canaries).
func Bucket(nodeID string) int {
	sum := sha256.Sum256([]byte("shir-rollout:" + nodeID))
	return int(binary.BigEndian.Uint64(sum[:8]) % 100)
}

// Window is a weekly maintenance window in local time, for example
// "Sun 02:00-04:00", "Mon-Fri 22:00-02:00" (ends the next morning),
// "Sat,Sun 01:00-05:00" or "daily 03:00-04:00".
type Window struct {
	Days       [7]bool // by time.Weekday: the day the window starts
	Start, End int     // minutes after midnight; End < Start crosses midnight
	text       string
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseWindow reads a maintenance window.
func ParseWindow(s string) (*Window, error) {
	bad := func(format string, a ...any) (*Window, error) {
		return nil, fmt.Errorf("maintenance window %q: %s", abbreviate(s), fmt.Sprintf(format, a...))
	}
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return bad(`want "DAYS HH:MM-HH:MM", e.g. "Sun 02:00-04:00"`)
	}
	w := &Window{text: strings.Join(fields, " ")}
	days := strings.ToLower(fields[0])
	if days == "daily" || days == "*" {
		for i := range w.Days {
			w.Days[i] = true
		}
	} else {
		for part := range strings.SplitSeq(days, ",") {
			from, to, isRange := strings.Cut(part, "-")
			a := slices.Index(dayNames, from)
			if a < 0 {
				return bad("unknown day %q (use Sun, Mon, ..., Sat or daily)", from)
			}
			b := a
			if isRange {
				if b = slices.Index(dayNames, to); b < 0 {
					return bad("unknown day %q (use Sun, Mon, ..., Sat or daily)", to)
				}
			}
			for d := a; ; d = (d + 1) % 7 {
				w.Days[d] = true
				if d == b {
					break
				}
			}
		}
	}
	from, to, ok := strings.Cut(fields[1], "-")
	if !ok {
		return bad("times: want HH:MM-HH:MM")
	}
	var err error
	if w.Start, err = parseClock(from); err != nil {
		return bad("start: %v", err)
	}
	if w.End, err = parseClock(to); err != nil {
		return bad("end: %v", err)
	}
	if w.Start == w.End {
		return bad("start and end are the same time")
	}
	return w, nil
}

func parseClock(s string) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q: want HH:MM", s)
	}
	for i, c := range s {
		if i != 2 && (c < '0' || c > '9') {
			return 0, fmt.Errorf("%q: want HH:MM", s)
		}
	}
	h = int(s[0]-'0')*10 + int(s[1]-'0')
	m = int(s[3]-'0')*10 + int(s[4]-'0')
	if h == 24 && m == 0 {
		return 24 * 60, nil
	}
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("%q: not a time of day", s)
	}
	return h*60 + m, nil
}

func (w *Window) String() string { return w.text }

// Contains reports whether t (in its own location) is inside the window.
func (w *Window) Contains(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	wd := int(t.Weekday())
	if w.Start < w.End {
		return w.Days[wd] && m >= w.Start && m < w.End
	}
	return (w.Days[wd] && m >= w.Start) || (w.Days[(wd+6)%7] && m < w.End)
}

// NextOpen returns the first minute at or after t inside the window.
func (w *Window) NextOpen(t time.Time) time.Time {
	t = t.Truncate(time.Minute)
	for i := 0; i < 8*24*60; i++ {
		if w.Contains(t) {
			return t
		}
		t = t.Add(time.Minute)
	}
	return t
}
