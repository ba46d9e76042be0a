#!/bin/sh
# shir postinst (deb: configure; rpm: %post with 1 = install, 2 = upgrade).
# Creates the service user and the state and log directories. Registers the
# node only when /etc/default/shir names an AUTHKEY_FILE; NOFIREWALL and PORT
# from that file are passed to shir install. With DPKG_ROOT set (an install
# into another root, dpkg --root / --instdir) only files under that root are
# changed: no service, firewall or registration.
set -e
case "$1" in
configure | 1 | 2) ;;
*) exit 0 ;;
esac
root="${DPKG_ROOT:-}"

# useradd exits 9 when the user exists already (a reinstall or upgrade).
rc=0
useradd ${root:+--prefix "$root"} --system --user-group --home-dir /var/lib/shir --no-create-home \
	--shell /usr/sbin/nologin --comment "shir integration runtime" shir || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 9 ] || exit "$rc"
owner=shir:shir
if [ -n "$root" ]; then
	# chown would look the name up on this machine, not in $root.
	owner=$(awk -F: '$1 == "shir" { print $3 ":" $4 }' "$root/etc/passwd")
fi
for d in /var/lib/shir:0700 /var/log/shir:0750; do
	mkdir -p "$root${d%:*}"
	chmod "${d#*:}" "$root${d%:*}"
	chown "$owner" "$root${d%:*}"
done

[ -z "$root" ] || exit 0
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi

AUTHKEY_FILE= NODENAME= NOFIREWALL=0 PORT=8060
[ ! -r /etc/default/shir ] || . /etc/default/shir
if [ -z "$AUTHKEY_FILE" ]; then
	if [ ! -e /var/lib/shir/identity.json ]; then
		echo "shir: not registered (no AUTHKEY_FILE in /etc/default/shir); run: shir install /q AUTHKEY=@FILE"
	fi
	exit 0
fi
set -- /q "AUTHKEY=@$AUTHKEY_FILE" "PORT=$PORT"
[ "$NOFIREWALL" != 1 ] || set -- "$@" NOFIREWALL=1
[ -z "$NODENAME" ] || set -- "$@" "NODENAME=$NODENAME"
/opt/shir/shir install "$@"
