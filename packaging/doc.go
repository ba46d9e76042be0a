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
// INSTALLDIR, ...; only the ones that are set, so that shir's own checks
// apply; IGNOREPREREQ always gets single-instance, as the MSI's shir.exe is
// already in place). Uninstall (msiexec /x) runs `shir uninstall /q` (with
// PURGE=1: --purge, and Windows Installer removes the then empty
// %ProgramData%\shir) from a temporary copy made by cmd.exe, since the
// installed exe (and its dmgcmd.exe hard link) cannot be deleted while it
// runs and wixl cannot build Binary-table EXE actions. A major upgrade (same
// UpgradeCode, higher version) keeps the node: the old product's uninstall
// action is skipped (UPGRADINGPRODUCTCODE) and the new shir install resumes
// from the journal. Actions have explicit sequence numbers: wixl's
// After=/Before= resolution can put them after InstallFinalize.
//
// AUTHKEY trade-off: wixl can build neither DLL nor script custom actions
// from Go, so the deferred action is an EXE whose command line is formatted
// from the properties (the CustomActionData pattern: an immediate action
// sets the property named like the deferred one). The key is therefore on
// the command line of a process running as LocalSystem, readable by
// administrators only, and hidden from the MSI log (MsiHiddenProperties).
// Prefer AUTHKEY=@C:\path\key.txt: only the path then is on a command line.
//
// Under Wine (tests; see ../shared/wine/README.md row d) msiexec /i and /x
// work with the custom actions, services and files, and the test checks
// them. What Wine shows differently: exit codes are cut to 8 bits (1603 is
// 67, 1627 is 91, 3010 is 194); a failed custom action gives 1627 where
// Windows gives 1603 (rollback happens on both); Wine's verbose log (/l*v)
// prints hidden properties (Windows replaces MsiHiddenProperties values by
// asterisks), so never pass a real key to a logged msiexec under Wine; the
// prefix's services run under kardianos/service only with the svcrun
// workaround (shir agent run), and no service is started without a key
// anyway. What Wine cannot show: the Windows Installer UI, reboot prompts,
// Restart Manager (files in use), SecureCustomProperties filtering of a
// non-admin managed install, per-user installs, a non-elevated msiexec
// (Wine runs everything as an elevated administrator), and Authenticode
// checks by Windows itself (SmartScreen, the UAC publisher name): those
// need a real Windows machine. Go's os.RemoveAll needs the overlay of
// ../shared/wine/go-overlay.sh under Wine 8, so the Wine test builds
// shir.exe with it (uninstall --purge); release builds do not need it.
//
// # Authenticode
//
// Sign and Verify wrap osslsigncode (SHA-256, optional RFC 3161 timestamp).
package packaging
