// Package power reads the active Windows power scheme's AC sleep settings
// through powrprof.dll (PowerGetActiveScheme, PowerReadACValueIndex): the
// API, not powercfg, whose output is localized. Other OSes return
// errors.ErrUnsupported; the Linux sleep check reads systemd's files and
// lives in prereq. Wine has no power API: ActiveScheme then fails with
// ERROR_CALL_NOT_IMPLEMENTED, which callers report as "could not determine".
package power

// Settings are the AC timeouts of the active scheme, in seconds; 0 means
// never for StandbyAC. For HibernateAC 0 means never on classic systems and
// "at the adaptive threshold" on Modern Standby ones.
type Settings struct {
	StandbyAC   uint32
	HibernateAC uint32
}
