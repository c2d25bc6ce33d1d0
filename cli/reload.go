package cli

import (
	"reflect"
	"slices"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// reload re-reads what serve was started with, the way serve read it:
// the same arguments parsed afresh, the environment, and the config file
// as it is now. It returns the new settings and the keys of those that
// changed but take effect only at the next start; a file that no longer
// validates is an error and changes nothing.
func (rt *runCtx) reload(was api.Paths) (ServeConfig, []string, error) {
	tree, g := commandTree(rt.env.Args)
	parser, err := newParser(tree, rt.env)
	if err != nil {
		return ServeConfig{}, nil, err
	}
	kctx, err := parser.Parse(rt.env.Args)
	if err != nil {
		return ServeConfig{}, nil, err
	}
	fresh := &runCtx{ctx: rt.ctx, env: rt.env, g: g, kctx: kctx, srv: rt.srv, serving: true}
	if err := fresh.applyConfig(); err != nil {
		return ServeConfig{}, nil, err
	}
	p, err := fresh.paths()
	if err != nil {
		return ServeConfig{}, nil, err
	}
	cfg, err := fresh.serveConfig(p)
	if err != nil {
		return ServeConfig{}, nil, err
	}
	var restart []string
	if p != was {
		restart = append(restart, "paths (socket_dir, sock_name, data_dir, address, port)")
	}
	for _, f := range restartFields {
		if !reflect.DeepEqual(reflect.ValueOf(*rt.g).FieldByName(f.field).Interface(), reflect.ValueOf(*g).FieldByName(f.field).Interface()) {
			restart = append(restart, f.key)
		}
	}
	if !slices.Equal(rt.whitelistSeed, fresh.whitelistSeed) {
		restart = append(restart, "whitelist (a seed: stored only on a host that never had a list)")
	}
	return cfg, restart, nil
}

// restartFields are the Globals a running host cannot change.
var restartFields = []struct{ key, field string }{
	{"socket_group", "SocketGroup"}, {"home_root", "HomeRoot"}, {"plugin_dirs", "PluginDir"},
	{"plugins", "Plugin"}, {"no_plugins", "NoPlugins"}, {"rpc_max_conns", "RPCMaxConns"},
	{"audit_max_age", "AuditMaxAge"}, {"audit_max_records", "AuditMaxRecords"},
	{"dashboard_open", "DashboardOpen"}, {"tls_cert", "TLSCert"}, {"tls_key", "TLSKey"},
	{"log_format", "LogFormat"},
}
