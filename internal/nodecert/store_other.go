//go:build !windows

package nodecert

import (
	"errors"
	"fmt"
	"time"
)

// LoadStore is Windows only: a thumbprint names a certificate in the
// Windows certificate store; elsewhere give a PEM file (CERTFILE).
func LoadStore(thumbprint string, now time.Time) (Cert, error) {
	return Cert{}, fmt.Errorf("%w: CERTTHUMBPRINT %s: thumbprints name a certificate in the Windows certificate store; on this system give the path of a PEM file with the certificate and key instead: %w",
		ErrInvalid, thumbprint, errors.ErrUnsupported)
}
