// Package prereq owns the prerequisite checks that `shir check` prints and the
// installer runs before it changes anything: OS and architecture, domain
// controller, .NET Framework, administrator rights, power plan, FIPS policy, Java,
// VC++ runtime, hardware, one installation per machine, "Log on as a service",
// the remote-access port and clock skew on Windows; the Linux analogues (distro,
// systemd, root, FIPS mode, sleep targets). Each check is a small named value
// with a stable lowercase id, a severity, a message and a fix hint; its probes
// (registry, files, commands) are injected so the logic is tested with fakes.
package prereq
