package atomicfile

import (
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// privateSDDL: protected DACL, full access for SYSTEM, Administrators and the
// file's owner (the service account that wrote it); nobody else.
const privateSDDL = "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;OW)"

// createPrivate creates a new file; when perm is private (no group or other
// bits) it gets privateSDDL at creation, so no other account can ever open it.
func createPrivate(name string, perm os.FileMode) (*os.File, error) {
	if perm&0o077 != 0 {
		return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
	}
	sd, err := windows.SecurityDescriptorFromString(privateSDDL)
	if err != nil {
		return nil, err
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, sa,
		windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		if err == windows.ERROR_FILE_EXISTS {
			return nil, os.ErrExist
		}
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(h), name), nil
}

func syncDir(string) {}
