#!/bin/sh
# shir postrm. purge (deb) removes the configuration, node state (identity,
# credentials), logs and the service user. rpm has no purge: %postun with 0
# (erase) removes logs only; config is %config(noreplace) and state stays.
set -e
root="${DPKG_ROOT:-}"
case "$1" in
purge)
	rm -rf "$root/var/lib/shir" "$root/var/log/shir" "$root/etc/shir"
	if grep -q '^shir:' "$root/etc/passwd" 2>/dev/null; then
		if [ -n "$root" ]; then
			userdel --prefix "$root" shir
		else
			userdel shir
		fi
	fi
	if grep -q '^shir:' "$root/etc/group" 2>/dev/null; then
		if [ -n "$root" ]; then groupdel --prefix "$root" shir; else groupdel shir; fi
	fi
	;;
0)
	rm -rf "$root/var/log/shir"
	;;
esac
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
