package firewall

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// probePort reads /proc/thread-self/net/tcp{,6} (the network namespace of the
// calling thread) for a LISTEN socket on port, then finds its process by the
// socket inode in /proc/*/fd. Without /proc it falls back to a listen probe.
func probePort(port int) (Listener, error) {
	var inodes []uint64
	found := false
	for _, f := range []string{"/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		found = true
		inodes = append(inodes, parseProcNetTCP(data, port)...)
	}
	if !found {
		return listenProbe(port)
	}
	if len(inodes) == 0 {
		return Listener{}, nil
	}
	l := Listener{Listening: true}
	l.PID, l.Program = socketOwner(inodes)
	return l, nil
}

// parseProcNetTCP returns the inodes of the sockets in LISTEN state (0A) on
// port in the text of /proc/net/tcp or tcp6. Malformed lines are skipped.
func parseProcNetTCP(data []byte, port int) []uint64 {
	var out []uint64
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || int(p) != port {
			continue
		}
		ino, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil || ino == 0 {
			continue
		}
		out = append(out, ino)
	}
	return out
}

// socketOwner finds the first process holding one of the socket inodes.
func socketOwner(inodes []uint64) (pid int, program string) {
	want := map[string]bool{}
	for _, ino := range inodes {
		want["socket:["+strconv.FormatUint(ino, 10)+"]"] = true
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		fds, err := os.ReadDir(filepath.Join(dir, "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
			if err != nil || !want[target] {
				continue
			}
			pid, _ = strconv.Atoi(filepath.Base(dir))
			comm, _ := os.ReadFile(filepath.Join(dir, "comm"))
			return pid, strings.TrimSpace(string(comm))
		}
	}
	return 0, ""
}
