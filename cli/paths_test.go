package cli

import (
	"testing"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// resolve parses args like Main does and returns the instance paths and
// the socket direct calls would use.
func resolve(t *testing.T, env map[string]string, args ...string) (api.Paths, string, error) {
	t.Helper()
	var cli CLI
	parser, err := newParser(&cli, Env{})
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := parser.Parse(append(args, "health"))
	if err != nil {
		t.Fatal(err)
	}
	rt := &runCtx{env: Env{Getenv: func(k string) string { return env[k] }}, g: &cli.Globals, kctx: kctx}
	p, err := rt.paths()
	if err != nil {
		return p, "", err
	}
	sock, _ := rt.socket()
	return p, sock, nil
}

// TestPathResolution: flags beat the environment, the environment beats
// the defaults, and every path comes out absolute.
func TestPathResolution(t *testing.T) {
	const h = "/home/u"
	type want struct {
		sock, socket, data, log, addr string
		port                          int
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want want
	}{
		{"defaults", nil, nil, want{
			sock: h + "/hero/var/sockets/hero_codescalers/rpc.sock", data: h + "/hero/var/hero_codescalers/db",
			log: h + "/hero/var/hero_codescalers/host.log", port: 5000}},
		{"instance 3", nil, []string{"--instance", "3"}, want{
			sock: h + "/hero/var/sockets/hero_codescalers_3/rpc.sock", data: h + "/hero/var/hero_codescalers_3/db",
			log: h + "/hero/var/hero_codescalers_3/host.log", port: 5003}},
		{"env", map[string]string{"PATH_SOCKET": "/run/s", "HERO_CODESCALERS_SOCK_NAME": "hc", "HERO_CODESCALERS_DATA_DIR": "/srv/db",
			"HERO_CODESCALERS_ADDRESS": "400::1", "HERO_CODESCALERS_PORT": "6000"}, nil, want{
			sock: "/run/s/hc/rpc.sock", data: "/srv/db", log: h + "/hero/var/hc/host.log", addr: "400::1", port: 6000}},
		{"flags beat env", map[string]string{"PATH_SOCKET": "/run/s", "HERO_CODESCALERS_SOCK_NAME": "hc", "HERO_CODESCALERS_DATA_DIR": "/srv/db",
			"HERO_CODESCALERS_ADDRESS": "400::1", "HERO_CODESCALERS_PORT": "6000"},
			[]string{"--socket-dir", "/x", "--sock-name", "y", "--data-dir", "/d", "--address", "400::2", "--port", "7000"}, want{
				sock: "/x/y/rpc.sock", data: "/d", log: h + "/hero/var/y/host.log", addr: "400::2", port: 7000}},
		{"env beats instance default port", map[string]string{"HERO_CODESCALERS_PORT": "6000"}, []string{"-i", "2"}, want{
			sock: h + "/hero/var/sockets/hero_codescalers_2/rpc.sock", data: h + "/hero/var/hero_codescalers_2/db",
			log: h + "/hero/var/hero_codescalers_2/host.log", port: 6000}},
		{"tilde from HOME", nil, []string{"--socket-dir", "~/s", "--data-dir", "~/d"}, want{
			sock: h + "/s/hero_codescalers/rpc.sock", data: h + "/d", log: h + "/hero/var/hero_codescalers/host.log", port: 5000}},
		{"server for calls only", nil, []string{"--server", "/tmp/other.sock"}, want{
			sock: h + "/hero/var/sockets/hero_codescalers/rpc.sock", socket: "/tmp/other.sock",
			data: h + "/hero/var/hero_codescalers/db", log: h + "/hero/var/hero_codescalers/host.log", port: 5000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"HOME": h}
			for k, v := range tc.env {
				env[k] = v
			}
			p, socket, err := resolve(t, env, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.socket == "" {
				tc.want.socket = tc.want.sock
			}
			got := want{p.RPCSocket, socket, p.DataDir, p.LogFile, p.Address, p.Port}
			if got != tc.want {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestRelativePathsBecomeAbsolute(t *testing.T) {
	t.Chdir(shortDir(t))
	p, _, err := resolve(t, map[string]string{"HOME": "/h", "PATH_SOCKET": "rel"}, "--data-dir", "db")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{p.RPCSocket, p.DataDir, p.PIDFile, p.LogFile, p.SocketDir} {
		if s == "" || s[0] != '/' {
			t.Fatalf("%q is not absolute", s)
		}
	}
}
