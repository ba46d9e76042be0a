package nodecert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/shirhq/shir/internal/nodeconfig"
)

var (
	modncrypt          = windows.NewLazySystemDLL("ncrypt.dll")
	procNCryptSignHash = modncrypt.NewProc("NCryptSignHash")
	procNCryptFree     = modncrypt.NewProc("NCryptFreeObject")
)

// Padding flags and structures of NCryptSignHash (bcrypt.h).
const (
	bcryptPadPKCS1 = 0x00000002
	bcryptPadPSS   = 0x00000008
)

type pkcs1PaddingInfo struct{ algID *uint16 }

type pssPaddingInfo struct {
	algID *uint16
	salt  uint32
}

// LoadStore finds the certificate with SHA-1 thumbprint in LocalMachine\My
// and returns it with a crypto.Signer over its CNG private key.
func LoadStore(thumbprint string, now time.Time) (Cert, error) {
	tp := nodeconfig.NormalizeThumbprint(thumbprint)
	bad := func(format string, a ...any) (Cert, error) {
		return Cert{}, fmt.Errorf("%w: CERTTHUMBPRINT %s: %s", ErrInvalid, tp, fmt.Sprintf(format, a...))
	}
	hash, err := hex.DecodeString(tp)
	if err != nil || len(hash) != 20 {
		return bad("must be 40 hex digits (a SHA-1 thumbprint)")
	}
	ctx, err := findInMy(hash)
	if err != nil {
		return bad("%v", err)
	}
	der := append([]byte(nil), unsafe.Slice(ctx.EncodedCert, ctx.Length)...)
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		windows.CertFreeCertificateContext(ctx)
		return bad("the certificate in the store cannot be parsed")
	}
	if err := checkValidity(leaf, now); err != nil {
		windows.CertFreeCertificateContext(ctx)
		return bad("%v", err)
	}
	var key windows.Handle
	var spec uint32
	var mustFree bool
	err = windows.CryptAcquireCertificatePrivateKey(ctx,
		windows.CRYPT_ACQUIRE_PREFER_NCRYPT_KEY_FLAG|windows.CRYPT_ACQUIRE_SILENT_FLAG, nil, &key, &spec, &mustFree)
	windows.CertFreeCertificateContext(ctx)
	if err != nil {
		return bad("the certificate has no private key usable through CNG (NCrypt): %v", err)
	}
	if spec != windows.CERT_NCRYPT_KEY_SPEC {
		if mustFree {
			windows.CryptReleaseContext(windows.Handle(key), 0)
		}
		return bad("the certificate's private key is in a legacy CryptoAPI provider that CNG cannot open; import the certificate with a CNG key storage provider (certutil -importpfx -csp \"Microsoft Software Key Storage Provider\")")
	}
	s := &ncryptSigner{key: key, pub: leaf.PublicKey}
	if mustFree {
		runtime.AddCleanup(s, func(h windows.Handle) { procNCryptFree.Call(uintptr(h)) }, key)
	}
	switch leaf.PublicKey.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		return bad("key type %T is not supported from the store (RSA or ECDSA)", leaf.PublicKey)
	}
	return Cert{
		TLS:         tls.Certificate{Certificate: [][]byte{der}, PrivateKey: s, Leaf: leaf},
		Fingerprint: Fingerprint(der),
		Source:      "store",
	}, nil
}

// findInMy looks a SHA-1 thumbprint up in LocalMachine\My.
func findInMy(hash []byte) (*windows.CertContext, error) {
	name, _ := windows.UTF16PtrFromString("MY")
	store, err := windows.CertOpenStore(windows.CERT_STORE_PROV_SYSTEM, 0, 0,
		windows.CERT_SYSTEM_STORE_LOCAL_MACHINE|windows.CERT_STORE_READONLY_FLAG,
		uintptr(unsafe.Pointer(name)))
	if err != nil {
		return nil, fmt.Errorf("cannot open the LocalMachine\\My store: %v", err)
	}
	defer windows.CertCloseStore(store, 0)
	blob := windows.CryptHashBlob{Size: uint32(len(hash)), Data: &hash[0]}
	ctx, err := windows.CertFindCertificateInStore(store, windows.X509_ASN_ENCODING|windows.PKCS_7_ASN_ENCODING, 0,
		windows.CERT_FIND_SHA1_HASH, unsafe.Pointer(&blob), nil)
	if err != nil {
		if errors.Is(err, windows.Errno(windows.CRYPT_E_NOT_FOUND)) {
			return nil, errors.New("no certificate with this thumbprint in the LocalMachine\\My store")
		}
		return nil, fmt.Errorf("certificate lookup in LocalMachine\\My: %v", err)
	}
	return ctx, nil
}

// ncryptSigner signs with a CNG key handle (NCryptSignHash).
type ncryptSigner struct {
	key windows.Handle
	pub crypto.PublicKey
}

func (s *ncryptSigner) Public() crypto.PublicKey { return s.pub }

func hashAlg(h crypto.Hash) (*uint16, error) {
	var n string
	switch h {
	case crypto.SHA1:
		n = "SHA1"
	case crypto.SHA256:
		n = "SHA256"
	case crypto.SHA384:
		n = "SHA384"
	case crypto.SHA512:
		n = "SHA512"
	default:
		return nil, fmt.Errorf("hash %v is not supported", h)
	}
	return windows.UTF16PtrFromString(n)
}

func (s *ncryptSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	var pad unsafe.Pointer
	var flags uint32
	switch s.pub.(type) {
	case *rsa.PublicKey:
		alg, err := hashAlg(opts.HashFunc())
		if err != nil {
			return nil, err
		}
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			salt := pss.SaltLength
			if salt == rsa.PSSSaltLengthEqualsHash || salt == rsa.PSSSaltLengthAuto {
				salt = opts.HashFunc().Size()
			}
			pad, flags = unsafe.Pointer(&pssPaddingInfo{algID: alg, salt: uint32(salt)}), bcryptPadPSS
		} else {
			pad, flags = unsafe.Pointer(&pkcs1PaddingInfo{algID: alg}), bcryptPadPKCS1
		}
	}
	var size uint32
	if err := ncryptSignHash(s.key, pad, digest, nil, &size, flags); err != nil {
		return nil, fmt.Errorf("NCryptSignHash: %w", err)
	}
	sig := make([]byte, size)
	if err := ncryptSignHash(s.key, pad, digest, sig, &size, flags); err != nil {
		return nil, fmt.Errorf("NCryptSignHash: %w", err)
	}
	sig = sig[:size]
	runtime.KeepAlive(pad)
	if _, ok := s.pub.(*ecdsa.PublicKey); ok {
		// CNG returns r||s; TLS wants ASN.1.
		half := len(sig) / 2
		return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:half]), new(big.Int).SetBytes(sig[half:])})
	}
	return sig, nil
}

func ncryptSignHash(key windows.Handle, pad unsafe.Pointer, digest, sig []byte, size *uint32, flags uint32) error {
	if err := procNCryptSignHash.Find(); err != nil {
		return err
	}
	var sp *byte
	if len(sig) > 0 {
		sp = &sig[0]
	}
	r, _, _ := procNCryptSignHash.Call(uintptr(key), uintptr(pad), uintptr(unsafe.Pointer(&digest[0])), uintptr(len(digest)),
		uintptr(unsafe.Pointer(sp)), uintptr(len(sig)), uintptr(unsafe.Pointer(size)), uintptr(flags))
	if r != 0 {
		return fmt.Errorf("status 0x%08x", uint32(r))
	}
	return nil
}
