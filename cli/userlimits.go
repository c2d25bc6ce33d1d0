package cli

import (
	"fmt"
	"io"
	"strconv"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// userLimitsCmd sets a user's CPU and memory limits. The values are
// parsed by the host, the one authority on what "1.5" cores or "4G" mean.
type userLimitsCmd struct {
	Name   string `arg:"" help:"User name."`
	CPU    string `name:"cpu" placeholder:"CORES" help:"Cores' worth of CPU time, e.g. 2 or 0.5; 0 lifts the limit, leaving it out keeps it."`
	Memory string `placeholder:"SIZE" help:"Memory, e.g. 512M or 4G; 0 lifts the limit, leaving it out keeps it."`
	fleetFlags
}

func (l *userLimitsCmd) Run(rt *runCtx) error {
	if l.CPU == "" && l.Memory == "" {
		return usageErrorf("user-limits needs --cpu, --memory or both (0 lifts a limit)")
	}
	if l.Fleet {
		if l.CPU == "" || l.Memory == "" {
			return usageErrorf("user-limits --fleet sets both limits: give --cpu and --memory (0 lifts one)")
		}
		return rt.fleetRun(l.fleetFlags, "limits of "+l.Name+" set", func(c *client.Client) (api.FleetResult, error) {
			return c.FleetUserLimitsSet(rt.ctx, api.FleetUserLimitsParams{Name: l.Name, CPU: l.CPU, Memory: l.Memory, WaitSecs: l.waitSecs()})
		})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	cpu, mem := l.CPU, l.Memory
	if cpu == "" || mem == "" {
		u, err := c.UserGet(rt.ctx, l.Name)
		if err != nil {
			return err
		}
		if u.Limits != nil && cpu == "" {
			cpu = fmtCores(u.Limits.MilliCPU)
		}
		if u.Limits != nil && mem == "" {
			mem = strconv.FormatInt(u.Limits.MemoryBytes, 10)
		}
	}
	u, err := c.UserLimitsSet(rt.ctx, l.Name, cpu, mem)
	if err != nil {
		return err
	}
	return rt.emit(u, func(w io.Writer) { fmt.Fprintf(w, "limits of %s: %s\n", u.Name, fmtLimits(u.Limits)) })
}

// fmtLimits renders a user's limits: "cpu 1.5, memory 64M" or "none".
func fmtLimits(l *api.Limits) string {
	if l == nil || (l.MilliCPU == 0 && l.MemoryBytes == 0) {
		return "none"
	}
	cpu, mem := "none", "none"
	if l.MilliCPU > 0 {
		cpu = fmtCores(l.MilliCPU)
	}
	if l.MemoryBytes > 0 {
		mem = fmtQuota(l.MemoryBytes)
	}
	return "cpu " + cpu + ", memory " + mem
}

func fmtCores(milli int) string { return strconv.FormatFloat(float64(milli)/1000, 'f', -1, 64) }
