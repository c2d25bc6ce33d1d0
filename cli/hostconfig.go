package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/threefoldtech/hero_codescalers/cli/config"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// setting is one host setting: its key in the config file, the flag that
// sets it (kong's name), its environment variable if it has one, and how
// a file value is checked and turned into the flag's values.
type setting struct {
	key  string
	flag string // "" for a file-only setting (whitelist)
	env  string
	// client: a client command needs it too (where the host is), so it
	// is applied for every command; the others only for host commands.
	client bool
	check  func(v any) ([]string, error)
}

// settings is every host setting, in the order config show lists them.
// A table key ("plugins.*") holds one setting per key beneath it.
var settings = []setting{
	{key: "socket_dir", flag: "socket-dir", env: api.EnvPathSocket, client: true, check: absPaths(1)},
	{key: "sock_name", flag: "sock-name", env: api.EnvSockName, client: true, check: plainName},
	{key: "data_dir", flag: "data-dir", env: api.EnvDataDir, client: true, check: absPaths(1)},
	{key: "address", flag: "address", env: api.EnvAddress, check: ipAddr},
	{key: "port", flag: "port", env: api.EnvPort, check: intIn(1, 65535)},
	{key: "admin_group", flag: "admin-group", check: plainName},
	{key: "socket_group", flag: "socket-group", check: plainName},
	{key: "home_root", flag: "home-root", check: absPaths(1)},
	{key: "plugin_dirs", flag: "plugin-dir", check: absPaths(-1)},
	{key: "plugins.*", flag: "plugin", check: plainName},
	{key: "no_plugins", flag: "no-plugins", check: boolean},
	{key: "rpc_max_conns", flag: "rpc-max-conns", env: EnvRPCMaxConns, check: intIn(1, 1<<20)},
	{key: "audit_max_age", flag: "audit-max-age", env: EnvAuditMaxAge, check: age},
	{key: "audit_max_records", flag: "audit-max-records", env: EnvAuditMaxRecords, check: intIn(1, 1<<30)},
	{key: "dashboard_open", flag: "dashboard-open", check: boolean},
	{key: "tls_cert", flag: "tls-cert", check: absPaths(1)},
	{key: "tls_key", flag: "tls-key", check: absPaths(1)},
	{key: "whitelist", check: addresses},
	{key: "log_level", flag: "log-level", check: oneOf("debug", "info", "warn", "error")},
	{key: "log_format", flag: "log-format", check: oneOf("text", "json")},
	{key: "node_name", flag: "node-name", check: plainName},
	{key: "nats_url", flag: "nats-url", env: api.EnvNATSURL, client: true, check: natsURLs},
}

// concerns are the plugin concerns a [plugins] table may pin.
var concerns = []string{"accounts", "volumes", "acl", "sshkeys", "sessions"}

// settingKeys are the keys config.Load accepts.
func settingKeys() []string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	return keys
}

// source says where an effective value came from, for config show.
type source struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"` // flag --x, env X, file PATH:LINE, default
}

// hostCommands take the host settings; every other command is a client
// and refuses them (checkHostFlags). setup driver takes the two it
// writes into the sudoers rules and the policy.
var hostCommands = map[string][]string{
	"serve": nil, "start": nil, "config": nil, "show": nil,
	"driver": {"home-root", "plugin-dir"},
	// fleet-init and fleet-join hand the host an external cluster's URL.
	"fleet-init": {"nats-url"}, "fleet-join": {"nats-url"},
}

// isHostCommand reports whether the selected command runs or starts the
// host (or shows its config): the file's host settings apply to it.
func (rt *runCtx) isHostCommand() bool {
	name := rt.command()
	if name == "lifecycle" {
		return rt.g.Start
	}
	allowed, ok := hostCommands[name]
	return ok && allowed == nil
}

// command is the selected command's leaf name ("" for none).
func (rt *runCtx) command() string {
	if sel := rt.kctx.Selected(); sel != nil {
		return sel.Name
	}
	return ""
}

// flagsGiven are the flags set on the command line.
func flagsGiven(kctx *kong.Context) map[string]bool {
	given := map[string]bool{}
	for _, p := range kctx.Path {
		if p.Flag != nil {
			given[p.Flag.Name] = true
		}
	}
	return given
}

// configPath is --config, else $HERO_CODESCALERS_CONFIG, else the system
// file if it exists (optional).
func (rt *runCtx) configPath() (path string, optional bool) {
	if rt.g.Config != "" {
		return rt.expand(rt.g.Config), false
	}
	if p := rt.env.Getenv(config.EnvPath); p != "" {
		return rt.expand(p), false
	}
	return config.DefaultPath, true
}

// applyConfig layers the config file under the flags and the
// environment: a setting neither sets takes the file's value, written into
// the flag's field, so the rest of the CLI reads one place. A host
// command applies (and checks) every setting; a client only where the
// host is, so a mistake in, say, log_level does not stop health from
// answering. Every source is remembered for config show.
func (rt *runCtx) applyConfig() error {
	path, optional := rt.configPath()
	f, err := config.Load(path, optional, settingKeys())
	if err != nil && optional && !rt.isHostCommand() && errors.Is(err, fs.ErrPermission) {
		// The system file may be kept from other users (0640, for a
		// nats_url with a password): a client run by one of them takes
		// the defaults and the environment. The host must read it.
		f, err = nil, nil
	}
	if err != nil {
		return usageErrorf("%v", err)
	}
	rt.cfgFile = f
	host := rt.isHostCommand()
	given := flagsGiven(rt.kctx)
	flags := map[string]*kong.Flag{}
	for _, fl := range rt.kctx.Flags() {
		flags[fl.Name] = fl
	}
	rt.sources, rt.fileFlags = map[string]string{}, map[string]bool{}
	for _, s := range settings {
		if !host && !s.client {
			continue
		}
		for _, key := range rt.fileKeys(s) {
			switch {
			case s.flag != "" && given[s.flag] && !strings.HasSuffix(s.key, ".*"):
				rt.sources[key] = "flag --" + s.flag
				continue
			case s.env != "" && rt.env.Getenv(s.env) != "":
				rt.sources[key] = "env " + s.env
				continue
			}
			v, _ := f.Get(key)
			vals, err := s.check(v)
			if err != nil {
				return usageErrorf("%v", f.Errorf(key, "%v", err))
			}
			if err := rt.setFromFile(s, key, vals, flags[s.flag], given[s.flag]); err != nil {
				return usageErrorf("%v", f.Errorf(key, "%v", err))
			}
			rt.sources[key] = "file " + f.Where(key)
		}
	}
	return nil
}

// fileKeys are the file's keys of s: s.key itself, or each key beneath a
// table; none when the file does not set it (then the flag or the
// environment, if any, is the source, or the default).
func (rt *runCtx) fileKeys(s setting) []string {
	var keys []string
	table, isTable := strings.CutSuffix(s.key, ".*")
	for _, k := range rt.cfgFile.Keys() {
		if (isTable && strings.HasPrefix(k, table+".")) || k == s.key {
			keys = append(keys, k)
		}
	}
	return keys
}

// setFromFile writes a file value into the flag's field. A pin from the
// file joins the --plugin flags unless a flag pins the same concern.
func (rt *runCtx) setFromFile(s setting, key string, vals []string, fl *kong.Flag, flagGiven bool) error {
	if s.flag == "" {
		if s.key == "whitelist" {
			rt.whitelistSeed = vals
		}
		return nil
	}
	if fl == nil {
		return fmt.Errorf("no flag --%s in this command", s.flag)
	}
	if table, ok := strings.CutSuffix(s.key, ".*"); ok {
		concern := strings.TrimPrefix(key, table+".")
		if !slices.Contains(concerns, concern) {
			return fmt.Errorf("no such concern (want one of %s)", strings.Join(concerns, ", "))
		}
		for _, pin := range rt.g.Plugin {
			if strings.HasPrefix(pin, concern+"=") && flagGiven {
				return nil // the flag pins this concern
			}
		}
		vals = []string{concern + "=" + vals[0]}
		rt.filePins = append(rt.filePins, vals[0])
	} else {
		rt.fileFlags[s.flag] = true
	}
	return setField(fl.Target, vals)
}

// setField stores vals in a flag's field: a string, int, bool or []string.
func setField(v reflect.Value, vals []string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(vals[0])
	case reflect.Bool:
		b, err := strconv.ParseBool(vals[0])
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(vals[0])
		if err != nil {
			return err
		}
		v.SetInt(int64(n))
	case reflect.Slice:
		v.Set(reflect.AppendSlice(v, reflect.ValueOf(vals)))
	default:
		return fmt.Errorf("cannot set a %s from the file", v.Kind())
	}
	return nil
}

// The checks of file values: each turns TOML's value into flag values.

func str(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a string, got %s", tomlType(v))
	}
	return s, nil
}

func tomlType(v any) string {
	switch v.(type) {
	case int64:
		return "an integer"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case string:
		return "a string"
	}
	return fmt.Sprintf("%T", v)
}

// natsURLs checks a NATS server list as nats.go takes it: URLs with a
// host, comma-separated.
func natsURLs(v any) ([]string, error) {
	s, err := str(v)
	if err != nil {
		return nil, err
	}
	if _, err := api.ParseNATSURLs(s); err != nil {
		return nil, fmt.Errorf("%v (the value is not shown: it may carry a password)", err)
	}
	return []string{s}, nil
}

func plainName(v any) ([]string, error) {
	s, err := str(v)
	if err != nil {
		return nil, err
	}
	if s == "" || strings.ContainsAny(s, "/ \t:=") {
		return nil, fmt.Errorf("%q: want a plain name", s)
	}
	return []string{s}, nil
}

// absPaths checks one absolute path (n 1) or an array of them (n -1).
func absPaths(n int) func(any) ([]string, error) {
	return func(v any) ([]string, error) {
		var list []any
		if n == 1 {
			list = []any{v}
		} else if l, ok := v.([]any); ok {
			list = l
		} else {
			return nil, fmt.Errorf("want an array of paths, got %s", tomlType(v))
		}
		var out []string
		for _, e := range list {
			s, err := str(e)
			if err != nil {
				return nil, err
			}
			if !filepath.IsAbs(s) {
				return nil, fmt.Errorf("%q: want an absolute path", s)
			}
			out = append(out, filepath.Clean(s))
		}
		return out, nil
	}
}

func intIn(lo, hi int64) func(any) ([]string, error) {
	return func(v any) ([]string, error) {
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("want an integer, got %s", tomlType(v))
		}
		if n < lo || n > hi {
			return nil, fmt.Errorf("%d: want %d..%d", n, lo, hi)
		}
		return []string{strconv.FormatInt(n, 10)}, nil
	}
}

func boolean(v any) ([]string, error) {
	b, ok := v.(bool)
	if !ok {
		return nil, fmt.Errorf("want true or false, got %s", tomlType(v))
	}
	return []string{strconv.FormatBool(b)}, nil
}

func age(v any) ([]string, error) {
	s, err := str(v)
	if err != nil {
		return nil, err
	}
	if _, err := parseAge(s); err != nil {
		return nil, fmt.Errorf("%q: %v", s, err)
	}
	return []string{s}, nil
}

func ipAddr(v any) ([]string, error) {
	s, err := str(v)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(s); err != nil {
		return nil, fmt.Errorf("%q: want an IP address", s)
	}
	return []string{s}, nil
}

// addresses is the whitelist seed: IP addresses or CIDR prefixes.
func addresses(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want an array of addresses, got %s", tomlType(v))
	}
	out := []string{}
	for _, e := range list {
		s, err := str(e)
		if err != nil {
			return nil, err
		}
		_, aerr := netip.ParseAddr(s)
		_, perr := netip.ParsePrefix(s)
		if aerr != nil && perr != nil {
			return nil, fmt.Errorf("%q: want an IP address or a CIDR prefix", s)
		}
		out = append(out, s)
	}
	return out, nil
}

func oneOf(choices ...string) func(any) ([]string, error) {
	return func(v any) ([]string, error) {
		s, err := str(v)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(choices, s) {
			return nil, fmt.Errorf("%q: want one of %s", s, strings.Join(choices, ", "))
		}
		return []string{s}, nil
	}
}

// checkHostFlags refuses a host setting given to a client command: it
// would be silently ignored there, and a script that passes
// --admin-group to user-list means something it does not get.
func checkHostFlags(g *Globals, kctx *kong.Context) error {
	sel := kctx.Selected()
	name := ""
	if sel != nil {
		name = sel.Name
	}
	allowed, isHost := hostCommands[name]
	if name == "lifecycle" && g.Start {
		isHost = true
	}
	for _, p := range kctx.Path {
		if p.Flag == nil || !hostOnly(p.Flag) || (isHost && (allowed == nil || slices.Contains(allowed, p.Flag.Name))) {
			continue
		}
		where := name
		if name == "lifecycle" || name == "" {
			where = "this command"
		}
		return fmt.Errorf("--%s is a host setting (serve, start, the config file); %s does not take it", p.Flag.Name, where)
	}
	return nil
}

// hostOnly reports whether a flag only means something to the host.
func hostOnly(f *kong.Flag) bool {
	if f.Group != nil && strings.HasPrefix(f.Group.Title, "Host") {
		return true
	}
	return f.Name == "address" || f.Name == "port"
}
