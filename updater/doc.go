// Package updater owns releases and self-update: signed manifests (minisign
// format) with a root-key to signing-key trust chain, sources (GitHub Releases,
// HTTPS feed, local folder), the update policy (channel, version constraint,
// no downgrade, expiry, maintenance window, staged rollout), applying with
// minio/selfupdate, and rolling back when the new version is not healthy.
package updater
