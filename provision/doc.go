// Package provision owns the install pipeline behind `shir install`, `repair`,
// `uninstall` and the dmgcmd actions: steps (prereq, layout, config, services,
// firewall, register, start, verify), each idempotent, journaled and undoable;
// resume after failure; dry-run plans; the one-installation lock; and the
// msiexec-style property set (AUTHKEY, NODENAME, NOFIREWALL, ...).
package provision
