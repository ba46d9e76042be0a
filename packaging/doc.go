// Package packaging owns what users install from: the .deb and .rpm (built
// by goreleaser's nfpm from goreleaser.yaml, with the files in
// packaging/files), the MSI (wixl, from templates.RenderWXS), and
// Authenticode signing of shir.exe and the MSI (osslsigncode). It holds only
// what goreleaser and nfpm cannot do; archives, checksums and the Linux
// packages themselves are theirs.
//
// # Linux packages
//
// Layout (DESIGN.md): /opt/shir/shir with /opt/shir/dmgcmd, /usr/bin/shir
// and /usr/bin/dmgcmd as links; units in /usr/lib/systemd/system, rendered
// from templates.RenderUnit into packaging/files by RenderFiles (the
// committed copies are checked against it by a test: one source of truth);
// /etc/shir/shir.toml and /etc/default/shir are conffiles. The shipped
// shir.toml is exactly what `shir install` writes for the package layout, so
// running it (without NODENAME) leaves the conffile unchanged.
//
// Maintainer scripts (files/scripts) are debconf-free. postinst creates the
// system user shir and /var/lib/shir (0700) and /var/log/shir (0750). It
// registers the node only when /etc/default/shir names an AUTHKEY_FILE: it
// then runs `shir install /q AUTHKEY=@FILE PORT=... [NOFIREWALL=1]
// [NODENAME=...]`, the full install pipeline, so the key never reaches a
// command line. Without a key it changes nothing else and says how to
// register. prerm (remove, not upgrade) runs `shir uninstall /q` when an
// install journal exists; postrm purge removes /etc/shir, /var/lib/shir,
// /var/log/shir and the user and group. With DPKG_ROOT set (dpkg --root,
// --force-script-chrootless) the scripts touch only files under that root;
// the tests install and purge the real .deb that way and compare file lists.
//
// # MSI
//
// BuildMSI renders the WiX source and runs `wixl -a x64`: a 64-bit package
// that installs shir.exe to ProgramFiles64Folder\shir and runs `shir install
// /q` as a deferred, non-impersonated custom action (LocalSystem) with the
// properties given to msiexec (AUTHKEY, NODENAME, NOFIREWALL, PORT,
// INSTALLDIR, ...; only the ones that are set). Uninstall (msiexec /x) runs
// `shir uninstall /q` (with PURGE=1: --purge) from a temporary copy, since
// the installed exe cannot delete itself; a major upgrade (same UpgradeCode,
// higher version) keeps the node: the old product's uninstall action is
// skipped (UPGRADINGPRODUCTCODE).
//
// AUTHKEY trade-off: wixl can build neither DLL nor script custom actions
// from Go, so the deferred action is an EXE whose command line is formatted
// from the properties (the CustomActionData pattern: an immediate action
// sets the property named like the deferred one). The key is therefore on
// the command line of a process running as LocalSystem, readable by
// administrators only, and hidden from the MSI log (MsiHiddenProperties).
// Prefer AUTHKEY=@C:\path\key.txt: only the path then is on a command line.
//
// Under Wine (tests; see ../shared/wine/README.md row d): msiexec /i and /x
// work with the custom actions, services and files; exit codes are cut to 8
// bits (1603 is 67, 1627 is 91, 3010 is 194) and Wine reports a failed
// custom action as 1627 where Windows reports 1603. Wine cannot show
// Windows Installer's UI, reboot prompts, Restart Manager (files in use),
// per-user installs or SecureCustomProperties filtering, and it runs
// everything as an elevated administrator.
//
// # Authenticode
//
// Sign and Verify wrap osslsigncode (SHA-256, optional RFC 3161 timestamp).
package packaging
