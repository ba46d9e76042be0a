#!/bin/sh
# shir postrm. purge (deb) removes the configuration, node state (identity,
# credentials), logs and the service user. rpm has no purge: %postun with 0
# (erase) removes logs only; config is %config(noreplace) and state stays.
set -e
root="${DPKG_ROOT:-}"
case "$1" in
purge)
	rm -rf "$root/var/lib/shir" "$root/var/log/shir" "$root/etc/shir"
	# userdel exits 6 when the user is gone already; it removes the
	# user's own group too, groupdel is for a group left alone.
	userdel ${root:+--prefix "$root"} shir 2>/dev/null || true
	groupdel ${root:+--prefix "$root"} shir 2>/dev/null || true
	;;
0)
	rm -rf "$root/var/log/shir"
	;;
esac
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
