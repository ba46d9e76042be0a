package winreg

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Fake is an in-memory registry for tests. The zero value is empty and ready.
// Keys are created by setting values in them or by AddKey.
type Fake struct {
	mu     sync.Mutex
	keys   map[string]bool           // normalized path
	values map[string]map[string]any // normalized path -> lower name -> uint32 | string
	errs   map[string]error          // normalized path -> error for every read under it
}

func norm(path string) string {
	root, sub, err := SplitPath(path)
	if err != nil {
		return strings.ToLower(path)
	}
	return strings.ToLower(root + `\` + sub)
}

func (f *Fake) init() {
	if f.keys == nil {
		f.keys = map[string]bool{}
		f.values = map[string]map[string]any{}
		f.errs = map[string]error{}
	}
}

// AddKey creates a key and its parents.
func (f *Fake) AddKey(path string) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	p := norm(path)
	for {
		f.keys[p] = true
		i := strings.LastIndex(p, `\`)
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return f
}

func (f *Fake) set(path, name string, v any) *Fake {
	f.AddKey(path)
	f.mu.Lock()
	defer f.mu.Unlock()
	p := norm(path)
	if f.values[p] == nil {
		f.values[p] = map[string]any{}
	}
	f.values[p][strings.ToLower(name)] = v
	return f
}

// SetDWORD sets a REG_DWORD value, creating the key.
func (f *Fake) SetDWORD(path, name string, v uint32) *Fake { return f.set(path, name, v) }

// SetString sets a REG_SZ value, creating the key.
func (f *Fake) SetString(path, name, v string) *Fake { return f.set(path, name, v) }

// SetError makes every read of path (and of keys under it) fail with err,
// like an access-denied key.
func (f *Fake) SetError(path string, err error) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	f.errs[norm(path)] = err
	return f
}

func (f *Fake) lookup(path, name string) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	p := norm(path)
	if _, _, err := SplitPath(path); err != nil {
		return nil, err
	}
	if err := f.errAt(p); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	v, ok := f.values[p][strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("read %s\\%s: %w", path, name, ErrNotExist)
	}
	return v, nil
}

func (f *Fake) errAt(p string) error {
	for k, err := range f.errs {
		if p == k || strings.HasPrefix(p, k+`\`) {
			return err
		}
	}
	return nil
}

// DWORD implements Reader.
func (f *Fake) DWORD(path, name string) (uint32, error) {
	v, err := f.lookup(path, name)
	if err != nil {
		return 0, err
	}
	d, ok := v.(uint32)
	if !ok {
		return 0, fmt.Errorf("read %s\\%s: %w (string, want DWORD)", path, name, ErrType)
	}
	return d, nil
}

// String implements Reader.
func (f *Fake) String(path, name string) (string, error) {
	v, err := f.lookup(path, name)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("read %s\\%s: %w (DWORD, want string)", path, name, ErrType)
	}
	return s, nil
}

// SubKeys implements Reader. Names come back lower-cased and sorted.
func (f *Fake) SubKeys(path string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	p := norm(path)
	if err := f.errAt(p); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if !f.keys[p] {
		return nil, fmt.Errorf("open %s: %w", path, ErrNotExist)
	}
	var out []string
	for k := range f.keys {
		if rest, ok := strings.CutPrefix(k, p+`\`); ok && !strings.Contains(rest, `\`) {
			out = append(out, rest)
		}
	}
	slices.Sort(out)
	return out, nil
}

// KeyExists implements Reader.
func (f *Fake) KeyExists(path string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	p := norm(path)
	if err := f.errAt(p); err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	return f.keys[p], nil
}
