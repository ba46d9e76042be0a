#!/bin/sh
# shir prerm (deb: remove/upgrade; rpm: %preun with 0 = erase, 1 = upgrade).
# On removal, undo what shir install did (services, firewall rule, dmgcmd
# link); node state stays until purge. Upgrades keep everything.
set -e
case "$1" in
remove | 0) ;;
*) exit 0 ;;
esac
root="${DPKG_ROOT:-}"
[ -z "$root" ] || exit 0
if [ -e /var/lib/shir/install.json ]; then
	/opt/shir/shir uninstall /q || echo "shir: shir uninstall failed; the package is removed anyway" >&2
fi
