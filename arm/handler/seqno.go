package handler

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/shirhq/shir/internal/atomicfile"
)

var settingsNameRE = regexp.MustCompile(`^(\d+)\.settings$`)

// ParseSeq parses a sequence number (ConfigSequenceNumber, mrseq).
func ParseSeq(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || len(s) > 9 {
		return 0, fmt.Errorf("sequence number %q is not a non-negative integer", s)
	}
	return n, nil
}

// HighestSeq returns the highest N of the ^\d+\.settings$ files in dir
// (stray or multi-config names are ignored).
func HighestSeq(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("config folder: %w", err)
	}
	best := -1
	for _, e := range ents {
		m := settingsNameRE.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		if n, err := ParseSeq(m[1]); err == nil && n > best {
			best = n
		}
	}
	if best < 0 {
		return 0, fmt.Errorf("config folder %s has no <N>.settings file", dir)
	}
	return best, nil
}

// ReadMRSeq returns the most recently processed sequence number stored in
// <root>/mrseq, or -1 when there is none.
func ReadMRSeq(root string) (int, error) {
	b, err := os.ReadFile(filepath.Join(root, "mrseq"))
	if errors.Is(err, os.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return -1, fmt.Errorf("read mrseq: %w", err)
	}
	n, err := ParseSeq(string(b))
	if err != nil {
		return -1, fmt.Errorf("mrseq: %w", err)
	}
	return n, nil
}

// WriteMRSeq stores seq in <root>/mrseq atomically.
func WriteMRSeq(root string, seq int) error {
	return atomicfile.Write(filepath.Join(root, "mrseq"), []byte(strconv.Itoa(seq)), 0o600)
}
