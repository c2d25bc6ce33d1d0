package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Environment variables of the host's limits. Like the paths, a flag
// beats its variable and the variable beats the default.
const (
	EnvRPCMaxConns     = "HERO_CODESCALERS_RPC_MAX_CONNS"
	EnvAuditMaxAge     = "HERO_CODESCALERS_AUDIT_MAX_AGE"
	EnvAuditMaxRecords = "HERO_CODESCALERS_AUDIT_MAX_RECORDS"
)

// Limits are the host's bounds as serve resolved them; a zero field
// leaves the host's default (the connection cap derived from the
// open-file limit, 90 days, 100,000 records).
type Limits struct {
	RPCMaxConns     int
	AuditMaxAge     time.Duration
	AuditMaxRecords int
}

// limits resolves the limit flags over the environment. A bad value is a
// usage error naming where it came from.
func (rt *runCtx) limits() (Limits, error) {
	var l Limits
	var err error
	if l.RPCMaxConns, err = rt.count("--rpc-max-conns", rt.g.RPCMaxConns, EnvRPCMaxConns); err != nil {
		return l, err
	}
	if l.AuditMaxRecords, err = rt.count("--audit-max-records", rt.g.AuditMaxRecords, EnvAuditMaxRecords); err != nil {
		return l, err
	}
	age, from := rt.g.AuditMaxAge, "--audit-max-age"
	if age == "" {
		age, from = rt.env.Getenv(EnvAuditMaxAge), EnvAuditMaxAge
	}
	if age != "" {
		if l.AuditMaxAge, err = parseAge(age); err != nil {
			return l, usageErrorf("%s %q: %v", from, age, err)
		}
	}
	return l, nil
}

// count is a positive number from a flag (0: not given) or else env.
func (rt *runCtx) count(flag string, v int, env string) (int, error) {
	if v != 0 {
		if v < 0 {
			return 0, usageErrorf("%s %d: must be positive", flag, v)
		}
		return v, nil
	}
	s := rt.env.Getenv(env)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, usageErrorf("%s=%q: not a positive number", env, s)
	}
	return n, nil
}

// parseAge reads a positive duration in Go's syntax (36h, 90m) or in days
// (90d), which is how an admin thinks of keeping a log.
func parseAge(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n > 100*365 {
			return 0, fmt.Errorf("want a number of days such as 90d, or a duration such as 36h")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("want a number of days such as 90d, or a duration such as 36h")
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return d, nil
}
