#!/usr/bin/env bash
# packaging/release-post.sh GO RELEASE_KEY SIGN_CERT SIGN_KEY: the steps after
# `goreleaser release` (make release-snapshot, docs/RELEASING.md):
#   1. MSI from dist's windows/amd64 shir.exe (shir packaging msi, wixl)
#   2. Authenticode signatures of shir.exe and the MSI (osslsigncode), verified
#   3. the signed update manifest: shir release sign into dist/feed, verified
# With empty key arguments it makes throw-away keys in dist/snapshot-keys.
set -euo pipefail
GO=${1:-go} RELEASE_KEY=${2:-} SIGN_CERT=${3:-} SIGN_KEY=${4:-}
cd "$(dirname "$0")/.."
version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)
[ -n "$version" ] || { echo "release-post: no version in dist/metadata.json" >&2; exit 1; }
host=dist/shir-host
CGO_ENABLED=0 "$GO" build -trimpath -o "$host" ./cmd/shir
keys=dist/snapshot-keys
mkdir -p "$keys"

# 1. MSI.
exe=$(ls dist/shir_windows_amd64*/shir.exe)
"$host" packaging msi --exe "$exe" --version "$version" --out "dist/shir_${version}_windows_amd64.msi"

# 2. Authenticode.
if [ -z "$SIGN_CERT" ]; then
	SIGN_CERT=$keys/authenticode.pem SIGN_KEY=$keys/authenticode.key
	[ -e "$SIGN_CERT" ] || openssl req -x509 -newkey rsa:2048 -nodes -keyout "$SIGN_KEY" -out "$SIGN_CERT" \
		-days 30 -subj "/CN=shir snapshot test signing" -addext extendedKeyUsage=codeSigning 2>/dev/null
fi
for f in dist/shir_windows_*/shir.exe "dist/shir_${version}_windows_amd64.msi"; do
	"$host" packaging sign --in "$f" --cert "$SIGN_CERT" --key "$SIGN_KEY"
	"$host" packaging verify --ca "$SIGN_CERT" "$f"
done

# 3. Signed update feed. The binaries are the goreleaser ones (shir.exe signed).
art=dist/feed-artifacts
rm -rf "$art" && mkdir -p "$art"
for d in dist/shir_linux_* dist/shir_windows_*; do
	[ -d "$d" ] || continue
	osarch=$(basename "$d" | sed -E 's/^shir_([a-z]+_[a-z0-9]+).*/\1/')
	ext=; [ -e "$d/shir.exe" ] && ext=.exe
	cp "$d/shir$ext" "$art/shir_${osarch}${ext}"
done
if [ -z "$RELEASE_KEY" ]; then
	export SHIR_RELEASE_PASSWORD=${SHIR_RELEASE_PASSWORD:-snapshot}
	RELEASE_KEY=$keys/signing.key
	if [ ! -e "$keys/root.key" ]; then
		"$host" release keygen --kind root --out "$keys/root" --kdf interactive
		"$host" release keygen --kind signing --out "$keys/signing" --kdf interactive
	fi
	"$host" release keys --dir dist/feed --root-key "$keys/root.key" --add "$keys/signing.pub"
fi
"$host" release sign --key "$RELEASE_KEY" --artifacts "$art" --version "$version" \
	--channel "${CHANNEL:-stable}" --out dist/feed
if [ -e "$keys/root.pub" ] && [ -z "${2:-}" ]; then
	"$host" release verify --dir dist/feed --root-pub "$keys/root.pub"
fi
echo "release-post: dist/ has the archives, packages, MSI and dist/feed (version $version)"
