package updater

import "errors"

// Refusals. Every reason the updater declines a release wraps exactly one of
// these, so that callers (and tests) can tell them apart with errors.Is.
var (
	// Signatures and trust.
	ErrBadSignature = errors.New("bad signature")
	ErrUnknownKey   = errors.New("signed by an unknown key")
	ErrRevokedKey   = errors.New("signed by a revoked key")
	ErrKeyList      = errors.New("invalid signing-key list")
	ErrStaleKeyList = errors.New("signing-key list older than one already seen")

	// The manifest itself.
	ErrManifest       = errors.New("invalid manifest")
	ErrExpired        = errors.New("manifest expired")
	ErrNotYetValid    = errors.New("manifest not valid yet")
	ErrFrozen         = errors.New("manifest older than one already seen (freeze or replay)")
	ErrNoArtifact     = errors.New("no artifact for this platform")
	ErrHashMismatch   = errors.New("artifact SHA-256 mismatch")
	ErrSizeMismatch   = errors.New("artifact size mismatch")
	ErrTooLarge       = errors.New("artifact larger than the size limit")
	ErrArtifactSigBad = errors.New("artifact signature does not verify")

	// Policy.
	ErrChannel        = errors.New("release is for another channel")
	ErrConstraint     = errors.New("version outside the configured constraint")
	ErrDowngrade      = errors.New("version not newer than the installed one")
	ErrOutsideWindow  = errors.New("outside the maintenance window")
	ErrNotInRollout   = errors.New("node not in this release's rollout")
	ErrAutoUpdateOff  = errors.New("automatic update is turned off")
	ErrPinned         = errors.New("version differs from the one pinned by the control plane")
	ErrMarkedBad      = errors.New("version marked bad after a failed update")
	ErrNoRelease      = errors.New("no release found")
	ErrUpToDate       = errors.New("already up to date")
	ErrVersionMissing = errors.New("requested version not found")

	// Applying.
	ErrUnhealthy  = errors.New("new version did not report healthy in time")
	ErrRolledBack = errors.New("update rolled back")
)
