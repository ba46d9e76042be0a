// Command agentidle measures an idle registered agent (`shir agent run`)
// against Debian's prometheus-node-exporter in the same run: RSS and CPU
// time over a window (default 60 s), read from /proc. The control plane runs
// in this process (controlplane.Server on 127.0.0.1), so it is not counted.
//
//	go run ./bench/agentidle [-window 60s]
//
// Linux only; prometheus-node-exporter must be installed (apt).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
	"github.com/shirhq/shir/internal/nodeconfig"
)

func main() {
	window := flag.Duration("window", 60*time.Second, "measurement window")
	flag.Parse()
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "agentidle")
	check(err)
	defer os.RemoveAll(tmp)

	srv, err := controlplane.New(controlplane.Options{DataDir: filepath.Join(tmp, "cp")})
	check(err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	sctx, stop := context.WithCancel(ctx)
	go srv.Serve(sctx, ln)
	defer func() { stop(); srv.Close() }()
	admin, err := client.New(srv.ClientConfig(ln.Addr().String()))
	check(err)
	rt, err := admin.CreateRuntime(ctx, api.CreateRuntimeRequest{Name: "bench"})
	check(err)
	keys, err := admin.Keys(ctx, rt.ID)
	check(err)
	k, err := register.ParseKey(keys.Key1)
	check(err)
	root := filepath.Join(tmp, "node")
	_, err = register.Register(ctx, register.Options{Key: k, NodeName: "bench", StateDir: nodeconfig.DefaultPaths(root).StateDir})
	check(err)

	bin := filepath.Join(tmp, "shir")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/shir")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stderr = os.Stderr
	check(build.Run())

	ag := exec.Command(bin, "agent", "run", "--root", root)
	check(ag.Start())
	defer func() { ag.Process.Kill(); ag.Wait() }()
	startNE := func() (*exec.Cmd, string) {
		p, err := freePort()
		check(err)
		addr := "127.0.0.1:" + strconv.Itoa(p)
		c := exec.Command("prometheus-node-exporter", "--web.listen-address="+addr)
		check(c.Start())
		return c, addr
	}
	ne, _ := startNE()
	defer func() { ne.Process.Kill(); ne.Wait() }()
	// A second exporter is scraped every 15 s, as Prometheus would: the
	// same rhythm as the agent's heartbeat.
	ns, nsAddr := startNE()
	defer func() { ns.Process.Kill(); ns.Wait() }()
	scrape := func() {
		if resp, err := http.Get("http://" + nsAddr + "/metrics"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}

	time.Sleep(5 * time.Second) // start-up done, first heartbeat sent
	scrape()
	a0, n0, s0 := cpuTicks(ag.Process.Pid), cpuTicks(ne.Process.Pid), cpuTicks(ns.Process.Pid)
	end := time.Now().Add(*window)
	for time.Now().Before(end) {
		time.Sleep(min(15*time.Second, time.Until(end)))
		if time.Now().Before(end) {
			scrape()
		}
	}
	a1, n1, s1 := cpuTicks(ag.Process.Pid), cpuTicks(ne.Process.Pid), cpuTicks(ns.Process.Pid)
	hz := 100.0 // USER_HZ on Linux
	fmt.Printf("| process | RSS (KiB) | peak RSS (KiB) | CPU time in %s (ms) | CPU %% |\n| --- | ---: | ---: | ---: | ---: |\n", *window)
	for _, r := range []struct {
		name   string
		pid    int
		t0, t1 int64
	}{{"shir agent run (idle, registered, heartbeating)", ag.Process.Pid, a0, a1}, {"prometheus-node-exporter (idle, not scraped)", ne.Process.Pid, n0, n1}, {"prometheus-node-exporter (scraped every 15 s)", ns.Process.Pid, s0, s1}} {
		ms := float64(r.t1-r.t0) / hz * 1000
		fmt.Printf("| %s | %d | %d | %.0f | %.3f |\n", r.name, status(r.pid, "VmRSS"), status(r.pid, "VmHWM"), ms, ms/float64(window.Milliseconds())*100)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// cpuTicks returns utime+stime of pid in clock ticks.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// status returns a kB field of /proc/pid/status.
func status(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	check(err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
