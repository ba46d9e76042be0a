// Command cpload is the control plane load benchmark: it starts a real
// `shir server` process on loopback, registers N simulated nodes (4 per
// runtime), lets each heartbeat every interval and long-poll for jobs over
// its own HTTP/2 connection (as a Go agent does), submits jobs at a fixed
// rate, and reports heartbeat latency, dispatch rate, enqueue-to-start
// latency, and the server's RSS and CPU.
//
//	go run ./bench/cpload -nodes 1000 -duration 60s
//
// It is a program, not a test: the numbers go to docs/benchmarks.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
)

func main() {
	nodes := flag.Int("nodes", 1000, "simulated nodes")
	perRuntime := flag.Int("per-runtime", 4, "nodes per runtime")
	interval := flag.Duration("interval", 15*time.Second, "heartbeat interval")
	duration := flag.Duration("duration", 60*time.Second, "measured time (after one interval of warm-up)")
	jobRate := flag.Float64("job-rate", 50, "jobs submitted per second")
	shir := flag.String("shir", "", "shir binary (default: go build ./cmd/shir)")
	flag.Parse()
	log.SetFlags(0)
	if os.Getenv("CPLOAD_PROBE") != "" {
		probeMain()
		return
	}
	raiseFileLimit()

	tmp, err := os.MkdirTemp("", "cpload")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if *shir == "" {
		*shir = filepath.Join(tmp, "shir")
		b := exec.Command("go", "build", "-o", *shir, "./cmd/shir")
		b.Stderr = os.Stderr
		if err := b.Run(); err != nil {
			log.Fatalf("build shir: %v", err)
		}
	}
	data := filepath.Join(tmp, "data")
	srv := exec.Command(*shir, "server", "--data", data, "--listen", "127.0.0.1:0", "--no-client-config",
		"--log-level", "warn", "--heartbeat-interval", interval.String(), "--register-rate", "100000", "--register-burst", "100000")
	srv.Stderr = os.Stderr
	out, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	url := ""
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := regexp.MustCompile(`listening on (https://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
			break
		}
	}
	go io.Copy(io.Discard, out)
	if url == "" {
		log.Fatal("server did not start")
	}
	cfg, err := client.Resolve(url, filepath.Join(data, "admin.token"), "", func(string) string { return "" }, "")
	if err != nil {
		log.Fatal(err)
	}
	admin, err := client.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	nrt := (*nodes + *perRuntime - 1) / *perRuntime
	keys := make([]register.Key, nrt)
	names := make([]string, nrt)
	start := time.Now()
	for i := range nrt {
		names[i] = fmt.Sprintf("rt%05d", i)
		if _, err := admin.CreateRuntime(ctx, api.CreateRuntimeRequest{Name: names[i], MaxNodes: *perRuntime}); err != nil {
			log.Fatal(err)
		}
		k, err := admin.Keys(ctx, names[i])
		if err != nil {
			log.Fatal(err)
		}
		if keys[i], err = register.ParseKey(k.Key1); err != nil {
			log.Fatal(err)
		}
	}
	log.Printf("created %d runtimes in %v", nrt, time.Since(start))

	var rec recorder
	fleet := make([]*node, *nodes)
	start = time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range *nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			n := newNode(url, cfg.CASHA256)
			k := keys[i / *perRuntime]
			var reg api.RegisterResponse
			if code, err := n.post(ctx, api.PathRegister, api.RegisterRequest{RuntimeID: k.RuntimeID, KeySecret: k.Secret,
				NodeName: fmt.Sprintf("n%05d", i), Machine: api.MachineFacts{MachineID: fmt.Sprintf("m%05d", i), CPUs: 2}, Version: "1.0.0"}, &reg); err != nil || code != 200 {
				log.Fatalf("register node %d: %d %v", i, code, err)
			}
			n.token = reg.NodeToken
			fleet[i] = n
		}()
	}
	wg.Wait()
	log.Printf("registered %d nodes in %v", *nodes, time.Since(start))

	for _, n := range fleet {
		go n.heartbeats(ctx, *interval, &rec)
		go n.poll(ctx, &rec)
	}
	// The probe: one more node in its own process, heartbeating every 100 ms
	// over its own connection, so that its latencies are the server's (plus
	// loopback), free of the load generator's own scheduling and GC.
	if _, err := admin.CreateRuntime(ctx, api.CreateRuntimeRequest{Name: "probe"}); err != nil {
		log.Fatal(err)
	}
	pk, _ := admin.Keys(ctx, "probe")
	pkey, _ := register.ParseKey(pk.Key1)
	pn := newNode(url, cfg.CASHA256)
	var preg api.RegisterResponse
	if code, err := pn.post(ctx, api.PathRegister, api.RegisterRequest{RuntimeID: pkey.RuntimeID, KeySecret: pkey.Secret, NodeName: "probe",
		Machine: api.MachineFacts{MachineID: "probe"}}, &preg); err != nil || code != 200 {
		log.Fatalf("register probe: %d %v", code, err)
	}
	log.Printf("warming up for %v", *interval)
	time.Sleep(*interval)
	probe := exec.Command(os.Args[0])
	probe.Env = append(os.Environ(), "CPLOAD_PROBE="+url, "CPLOAD_PROBE_TOKEN="+preg.NodeToken,
		"CPLOAD_PROBE_PIN="+client.PinString(cfg.CASHA256), "CPLOAD_PROBE_FOR="+duration.String())
	probe.Stderr = os.Stderr
	var probeOut bytes.Buffer
	probe.Stdout = &probeOut
	if err := probe.Start(); err != nil {
		log.Fatal(err)
	}
	rec.reset()
	cpu0, wall0 := procCPU(srv.Process.Pid), time.Now()
	self0 := selfCPU()
	var maxRSS atomic.Int64
	go func() {
		for ctx.Err() == nil {
			if r := procRSS(srv.Process.Pid); r > maxRSS.Load() {
				maxRSS.Store(r)
			}
			time.Sleep(time.Second)
		}
	}()
	// Submit at a fixed rate; the spec carries the submit time.
	subCtx, stopSub := context.WithTimeout(ctx, *duration)
	var submitted atomic.Int64
	go func() {
		t := time.NewTicker(time.Duration(float64(time.Second) / *jobRate))
		defer t.Stop()
		for {
			select {
			case <-subCtx.Done():
				return
			case <-t.C:
			}
			go func() {
				spec := fmt.Sprintf(`{"command":"bench","args":["%d"]}`, time.Now().UnixNano())
				if _, err := admin.SubmitJob(ctx, api.SubmitJobRequest{Runtime: names[rand.IntN(nrt)], Kind: api.KindExec, Spec: json.RawMessage(spec)}); err == nil {
					submitted.Add(1)
				}
			}()
		}
	}()
	<-subCtx.Done()
	stopSub()
	time.Sleep(2 * time.Second) // let the last jobs start
	probe.Wait()
	cpu1, wall1 := procCPU(srv.Process.Pid), time.Now()
	self1 := selfCPU()
	hb, d, errs := rec.snapshot()
	secs := wall1.Sub(wall0).Seconds()
	fmt.Printf("\nnodes %d (%d runtimes), heartbeat every %v, measured %.0fs, %s, GOMAXPROCS %d\n", *nodes, nrt, *interval, secs, runtime.Version(), runtime.GOMAXPROCS(0))
	fmt.Printf("| nodes | heartbeats/s | heartbeat p50 | heartbeat p99 | jobs dispatched/s | enqueue-to-start p50 | p99 | server RSS | server CPU | load generator CPU | errors |\n")
	fmt.Printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	fmt.Printf("| %d | %.0f | %s | %s | %.1f (of %d submitted) | %s | %s | %.0f MiB | %.0f%% | %.0f%% | %d |\n",
		*nodes, float64(len(hb))/secs, pct(hb, 50), pct(hb, 99), float64(len(d))/secs, submitted.Load(), pct(d, 50), pct(d, 99),
		float64(maxRSS.Load())/(1<<20), 100*(cpu1-cpu0)/secs, 100*(self1-self0)/secs, errs)
	fmt.Printf("probe (separate process, 10 heartbeats/s): %s", probeOut.String())
	cancel()
}

// probeMain heartbeats every 100 ms for CPLOAD_PROBE_FOR and prints p50/p99.
func probeMain() {
	pin, err := api.ParsePin(os.Getenv("CPLOAD_PROBE_PIN"))
	if err != nil {
		log.Fatal(err)
	}
	d, err := time.ParseDuration(os.Getenv("CPLOAD_PROBE_FOR"))
	if err != nil {
		log.Fatal(err)
	}
	n := newNode(os.Getenv("CPLOAD_PROBE"), pin)
	n.token = os.Getenv("CPLOAD_PROBE_TOKEN")
	var lat []time.Duration
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		t0 := time.Now()
		if code, err := n.post(context.Background(), api.PathHeartbeat, api.HeartbeatRequest{Version: "1.0.0"}, nil); err != nil || code != 200 {
			log.Fatalf("probe heartbeat: %d %v", code, err)
		}
		lat = append(lat, time.Since(t0))
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Printf("%d heartbeats, p50 %s, p99 %s, max %s\n", len(lat), pct(lat, 50), pct(lat, 99), pct(lat, 100))
}

type recorder struct {
	mu         sync.Mutex
	heartbeats []time.Duration
	dispatch   []time.Duration
	errors     int
}

func (r *recorder) add(hb bool, d time.Duration) {
	r.mu.Lock()
	if hb {
		r.heartbeats = append(r.heartbeats, d)
	} else {
		r.dispatch = append(r.dispatch, d)
	}
	r.mu.Unlock()
}

func (r *recorder) fail() { r.mu.Lock(); r.errors++; r.mu.Unlock() }

func (r *recorder) reset() {
	r.mu.Lock()
	r.heartbeats, r.dispatch, r.errors = nil, nil, 0
	r.mu.Unlock()
}

func (r *recorder) snapshot() (hb, d []time.Duration, errs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.heartbeats), slices.Clone(r.dispatch), r.errors
}

func pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "-"
	}
	slices.Sort(d)
	v := d[min(len(d)-1, len(d)*p/100)]
	return fmt.Sprintf("%.2f ms", float64(v)/float64(time.Millisecond))
}

type node struct {
	hc    *http.Client
	url   string
	token string
}

func newNode(url string, pin []byte) *node {
	tr := &http.Transport{TLSClientConfig: api.PinnedTLSConfig(pin), ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 1}
	return &node{hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}, url: url}
}

func (n *node) post(ctx context.Context, path string, in, out any) (int, error) {
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, "POST", n.url+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if n.token != "" {
		req.Header.Set("Authorization", "Bearer "+n.token)
	}
	resp, err := n.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && out != nil {
		return 200, json.Unmarshal(body, out)
	}
	return resp.StatusCode, nil
}

func (n *node) heartbeats(ctx context.Context, every time.Duration, rec *recorder) {
	// Spread the fleet over the interval.
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Duration(rand.Int64N(int64(every)))):
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		t0 := time.Now()
		code, err := n.post(ctx, api.PathHeartbeat, api.HeartbeatRequest{Version: "1.0.0", Concurrency: 2,
			Metrics: api.Metrics{CPUPercent: rand.Float64() * 100, MemoryUsedBytes: 1 << 30, MemoryTotalBytes: 8 << 30}}, nil)
		if ctx.Err() != nil {
			return
		}
		if err != nil || code != 200 {
			rec.fail()
		} else {
			rec.add(true, time.Since(t0))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *node) poll(ctx context.Context, rec *recorder) {
	for ctx.Err() == nil {
		var lr api.LeaseResponse
		code, err := n.post(ctx, api.PathLease, api.LeaseRequest{WaitSeconds: 30, Max: 1}, &lr)
		got := time.Now()
		if ctx.Err() != nil {
			return
		}
		if err != nil || code != 200 {
			rec.fail()
			time.Sleep(time.Second)
			continue
		}
		for _, l := range lr.Jobs {
			var spec api.ExecSpec
			if json.Unmarshal(l.Spec, &spec) == nil && len(spec.Args) == 1 {
				if ns, err := strconv.ParseInt(spec.Args[0], 10, 64); err == nil {
					rec.add(false, got.Sub(time.Unix(0, ns)))
				}
			}
			if code, err := n.post(ctx, api.JobPath(l.JobID, "result"), api.ResultRequest{Attempt: l.Attempt, Outcome: api.OutcomeSucceeded}, nil); err != nil || code != 200 {
				rec.fail()
			}
		}
	}
}

// procCPU is the process's user+system CPU seconds (Linux /proc).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100 // USER_HZ
}

func selfCPU() float64 { return procCPU(os.Getpid()) }

// procRSS is the process's resident set in bytes (Linux /proc).
func procRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
