package agent

import (
	"context"
	"runtime"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/disk"
	"github.com/shirou/gopsutil/v3/mem"

	"github.com/shirhq/shir/controlplane/api"
)

// collectMetrics reads CPU (since the previous call), memory and the disk of
// dir with gopsutil. Figures that cannot be read stay zero.
func collectMetrics(ctx context.Context, dir string, running int) api.Metrics {
	m := api.Metrics{RunningJobs: running}
	if p, err := cpu.PercentWithContext(ctx, 0, false); err == nil && len(p) > 0 {
		m.CPUPercent = p[0]
	}
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		m.MemoryTotalBytes, m.MemoryUsedBytes = vm.Total, vm.Used
	}
	if du, err := disk.UsageWithContext(ctx, dir); err == nil {
		m.DiskTotalBytes, m.DiskUsedBytes = du.Total, du.Used
	}
	return m
}

// DefaultConcurrency is the node's own job limit from its cores and memory:
// two jobs per core, and no more than two per GiB of memory, at least 1 and
// at most api.MaxConcurrency (the seed's "concurrent jobs" default grows
// with the machine the same way).
func DefaultConcurrency(cores int, memBytes uint64) int {
	n := 2 * cores
	if memBytes > 0 {
		if byMem := int(memBytes>>30) * 2; byMem < n {
			n = byMem
		}
	}
	return max(1, min(n, api.MaxConcurrency))
}

func machineConcurrency(ctx context.Context) int {
	var total uint64
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		total = vm.Total
	}
	return DefaultConcurrency(runtime.NumCPU(), total)
}
