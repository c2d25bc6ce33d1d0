package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// configCmd groups the config file's commands.
type configCmd struct {
	Show configShowCmd `cmd:"" help:"Print the effective host settings and where each came from: flag, environment, file:line or default."`
}

// configShowCmd prints what serve would run with, after flags, the
// environment, the file and the defaults are layered.
type configShowCmd struct{}

// configReport is config show under --json.
type configReport struct {
	File     string   `json:"file,omitempty"`
	Layout   string   `json:"layout"`
	Why      string   `json:"layout_why"`
	Settings []source `json:"settings"`
}

func (configShowCmd) Run(rt *runCtx) error {
	rt.serving = rt.env.Getenv("RUNTIME_DIRECTORY") != "" // as serve would see it under systemd
	p, err := rt.paths()
	if err != nil {
		return err
	}
	if _, err := rt.limits(); err != nil {
		return err
	}
	rep := configReport{Layout: p.Layout, Why: p.LayoutWhy}
	if rt.cfgFile != nil {
		rep.File = rt.cfgFile.Path
	}
	for _, s := range settings {
		keys := rt.fileKeys(s)
		if strings.HasSuffix(s.key, ".*") {
			keys = rt.pinKeys(s)
		} else if len(keys) == 0 {
			keys = []string{s.key}
		}
		for _, k := range keys {
			src := rt.sources[k]
			if src == "" {
				src = rt.sourceOf(s)
			}
			rep.Settings = append(rep.Settings, source{Key: k, Value: rt.effective(k, p), Source: src})
		}
	}
	return rt.emit(rep, func(w io.Writer) {
		file := rep.File
		if file == "" {
			file = "none (" + strings.Join([]string{"--config", "HERO_CODESCALERS_CONFIG", "/etc/hero_codescalers/config.toml"}, ", ") + ": none given or found)"
		}
		kv(w, "config file", file)
		kv(w, "layout", rep.Layout+": "+rep.Why)
		fmt.Fprintln(w)
		row(w, "KEY", "VALUE", "SOURCE")
		for _, s := range rep.Settings {
			row(w, s.Key, s.Value, s.Source)
		}
	})
}

// pinKeys are the plugins.CONCERN keys in effect: the file's and the
// --plugin flags'.
func (rt *runCtx) pinKeys(s setting) []string {
	var keys []string
	for _, pin := range rt.g.Plugin {
		concern, _, _ := strings.Cut(pin, "=")
		k := "plugins." + concern
		if rt.sources[k] == "" {
			rt.sources[k] = "flag --plugin"
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		keys = []string{"plugins"}
		rt.sources["plugins"] = "default (chosen by the machine: os-release and the home root's filesystem)"
	}
	return keys
}

// sourceOf is where a setting the file does not set comes from.
func (rt *runCtx) sourceOf(s setting) string {
	if s.flag != "" && flagsGiven(rt.kctx)[s.flag] {
		return "flag --" + s.flag
	}
	if s.env != "" && rt.env.Getenv(s.env) != "" {
		return "env " + s.env
	}
	return "default"
}

// effective is a setting's value as the host would get it.
func (rt *runCtx) effective(key string, p api.Paths) string {
	g := rt.g
	lim, _ := rt.limits()
	switch key {
	case "socket_dir":
		return filepath.Dir(p.SocketDir)
	case "sock_name":
		return filepath.Base(p.SocketDir)
	case "data_dir":
		return p.DataDir
	case "address":
		return orDefault(p.Address, "the mycelium address, if any")
	case "port":
		return strconv.Itoa(p.Port)
	case "admin_group":
		return orDefault(g.AdminGroup, "none: root and the host's own uid only")
	case "socket_group":
		return orDefault(g.SocketGroup, "none: rpc.sock 0600")
	case "home_root":
		return orDefault(g.HomeRoot, "/home")
	case "plugin_dirs":
		return orDefault(strings.Join(g.PluginDir, ","), "plugins/ beside the server, "+LibDir+"/plugins")
	case "no_plugins":
		return strconv.FormatBool(g.NoPlugins)
	case "rpc_max_conns":
		return orDefault(nonZero(lim.RPCMaxConns), "from the open-file limit")
	case "audit_max_age":
		return orDefault(g.AuditMaxAge, orDefault(rt.env.Getenv(EnvAuditMaxAge), "90d"))
	case "audit_max_records":
		return orDefault(nonZero(lim.AuditMaxRecords), "100000")
	case "dashboard_open":
		return strconv.FormatBool(g.DashboardOpen)
	case "tls_cert":
		return orDefault(g.TLSCert, "self-signed, made at first start when needed")
	case "tls_key":
		return orDefault(g.TLSKey, "the self-signed certificate's")
	case "whitelist":
		return orDefault(strings.Join(rt.whitelistSeed, ","), "none: the state's list as it is")
	case "log_level":
		return orDefault(g.LogLevel, "info")
	case "log_format":
		return orDefault(g.LogFormat, "text")
	case "node_name":
		return orDefault(g.NodeName, "the host name (_N for instance N)")
	case "nats_url":
		return orDefault(api.RedactURLs(rt.natsURL()), "none: the embedded server, once in a fleet")
	}
	if concern, ok := strings.CutPrefix(key, "plugins."); ok {
		for _, pin := range g.Plugin {
			if c, name, _ := strings.Cut(pin, "="); c == concern {
				return name
			}
		}
	}
	return "by the machine"
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func nonZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
