#!/usr/bin/env bash
# binsize.sh: size of the stripped shir binary (linux/amd64, windows/amd64),
# side by side with Debian's prometheus-node-exporter, a comparable static Go agent.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for os in linux windows; do
  ext=; [ $os = windows ] && ext=.exe
  CGO_ENABLED=0 GOOS=$os GOARCH=amd64 go build -trimpath -ldflags='-s -w' -o "$tmp/shir$ext" ./cmd/shir
  printf '%-44s %10d bytes  %6.1f MiB\n' "shir $os/amd64 (-trimpath -s -w)" "$(stat -c %s "$tmp/shir$ext")" \
    "$(awk -v s="$(stat -c %s "$tmp/shir$ext")" 'BEGIN{print s/1048576}')"
done
if (cd "$tmp" && apt-get download prometheus-node-exporter >/dev/null 2>&1); then
  deb=$(ls "$tmp"/prometheus-node-exporter_*.deb)
  dpkg-deb -x "$deb" "$tmp/ne"
  f=$tmp/ne/usr/bin/prometheus-node-exporter
  printf '%-44s %10d bytes  %6.1f MiB\n' "$(basename "$deb" .deb)" "$(stat -c %s "$f")" \
    "$(awk -v s="$(stat -c %s "$f")" 'BEGIN{print s/1048576}')"
else
  echo "prometheus-node-exporter: apt-get download failed (no apt sources?); reference not measured"
fi
