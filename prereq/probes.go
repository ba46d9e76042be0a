package prereq

import (
	"os"
	"time"
)

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func now() time.Time { return time.Now() }
