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

if ! grep -q '^shir:' "$root/etc/passwd" 2>/dev/null; then
	if [ -n "$root" ]; then
		useradd --prefix "$root" --system --user-group --home-dir /var/lib/shir --no-create-home --shell /usr/sbin/nologin --comment "shir integration runtime" shir
	else
		useradd --system --user-group --home-dir /var/lib/shir --no-create-home --shell /usr/sbin/nologin --comment "shir integration runtime" shir
	fi
fi
uid=$(awk -F: '$1 == "shir" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "shir" { print $4 }' "$root/etc/passwd")
for d in /var/lib/shir:0700 /var/log/shir:0750; do
	mkdir -p "$root${d%:*}"
	chmod "${d#*:}" "$root${d%:*}"
	chown "$uid:$gid" "$root${d%:*}"
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
