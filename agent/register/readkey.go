package register

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ReadKey resolves an AUTHKEY argument: "-" reads the key from stdin, "@path"
// from a file (so the key stays out of the process list), anything else is
// the key itself. Errors wrap ErrBadKey or name the file, never the key.
func ReadKey(arg string, stdin io.Reader) (Key, error) {
	var text string
	switch {
	case arg == "-":
		if stdin == nil {
			return Key{}, fmt.Errorf("%w: no standard input to read the key from", ErrBadKey)
		}
		b, err := io.ReadAll(io.LimitReader(stdin, 8<<10))
		if err != nil {
			return Key{}, fmt.Errorf("read key from stdin: %w", err)
		}
		text = firstLine(string(b))
	case strings.HasPrefix(arg, "@"):
		path := arg[1:]
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return Key{}, fmt.Errorf("%w: key file %s does not exist", ErrBadKey, path)
			}
			return Key{}, fmt.Errorf("read key file: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, 8<<10))
		if err != nil {
			return Key{}, fmt.Errorf("read key file %s: %w", path, err)
		}
		text = firstLine(string(b))
	default:
		text = arg
	}
	return ParseKey(text)
}

func firstLine(s string) string {
	s = strings.TrimLeft(s, " \t\r\n\ufeff")
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}
