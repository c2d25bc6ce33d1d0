package api

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// BasePort is the dashboard's TCP port of instance 0; instance N uses
// BasePort+N.
const BasePort = 5000

// Environment variables, as in the seed project.
const (
	EnvPathSocket = "PATH_SOCKET"
	EnvSockName   = "HERO_CODESCALERS_SOCK_NAME"
	EnvDataDir    = "HERO_CODESCALERS_DATA_DIR"
	EnvAddress    = "HERO_CODESCALERS_ADDRESS"
	EnvPort       = "HERO_CODESCALERS_PORT"
	EnvSecret     = "SECRET_CODESCALERS"
	EnvNATSURL    = "HERO_CODESCALERS_NATS_URL"
)

// PathFlags are the values given on the command line; empty or zero means
// "not given", so the environment and then the defaults apply.
type PathFlags struct {
	Instance   int
	SocketBase string
	SockName   string
	DataDir    string
	Address    string
	Port       int
	// RuntimeDir and StateDir, when set, are the system layout's
	// defaults (what systemd's RuntimeDirectory= and StateDirectory=
	// make): the socket dir is RuntimeDir, the data dir StateDir/db, the
	// log the journal. Unset, the defaults are the user layout under
	// ~/hero/var, as in the seed.
	RuntimeDir string
	StateDir   string
	// LayoutWhy says how the layout was chosen, for status.
	LayoutWhy string
}

// The layouts of Paths.Layout.
const (
	LayoutUser   = "user"   // ~/hero/var: a user's own host
	LayoutSystem = "system" // /run/hero_codescalers, /var/lib/hero_codescalers, the journal: the package's unit
)

// Paths is where one instance of the host lives.
type Paths struct {
	Instance    int    `json:"instance"`
	SocketDir   string `json:"socket_dir"`
	RPCSocket   string `json:"rpc_socket"`
	AdminSocket string `json:"admin_socket"`
	DataDir     string `json:"data_dir"`
	VarDir      string `json:"var_dir"`
	PIDFile     string `json:"pid_file"`
	LogFile     string `json:"log_file"`
	Address     string `json:"address,omitempty"`
	Port        int    `json:"port"`
	// Layout is LayoutUser or LayoutSystem; LayoutWhy says how it was
	// detected.
	Layout    string `json:"layout"`
	LayoutWhy string `json:"layout_why,omitempty"`
}

// InstanceName is "hero_codescalers" for instance 0 and
// "hero_codescalers_N" otherwise.
func InstanceName(n int) string {
	if n == 0 {
		return "hero_codescalers"
	}
	return "hero_codescalers_" + strconv.Itoa(n)
}

// ResolvePaths applies flags over environment over defaults. getenv is
// os.Getenv in production and a map in tests.
func ResolvePaths(f PathFlags, getenv func(string) string) (Paths, error) {
	if f.Instance < 0 || f.Instance > 999 {
		return Paths{}, fmt.Errorf("instance %d: must be 0..999", f.Instance)
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return Paths{}, fmt.Errorf("cannot find the home directory: %w", err)
		}
		home = h
	}
	name := InstanceName(f.Instance)
	pick := func(flag, env, def string) string {
		if flag != "" {
			return flag
		}
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
	p := Paths{Instance: f.Instance, Layout: LayoutUser, LayoutWhy: f.LayoutWhy}
	defBase, defSock := filepath.Join(home, "hero", "var", "sockets"), name
	defData := filepath.Join(home, "hero", "var", name, "db")
	if f.RuntimeDir != "" && f.StateDir != "" {
		p.Layout = LayoutSystem
		defBase, defSock = filepath.Dir(f.RuntimeDir), filepath.Base(f.RuntimeDir)
		defData = filepath.Join(f.StateDir, "db")
	}
	base := pick(f.SocketBase, EnvPathSocket, defBase)
	sock := pick(f.SockName, EnvSockName, defSock)
	if sock != filepath.Base(sock) || sock == "." || sock == ".." {
		return Paths{}, fmt.Errorf("socket name %q must be a plain directory name", sock)
	}
	p.SocketDir = filepath.Join(base, sock)
	p.RPCSocket = filepath.Join(p.SocketDir, "rpc.sock")
	p.AdminSocket = filepath.Join(p.SocketDir, "admin.sock")
	p.PIDFile = filepath.Join(p.SocketDir, "host.pid")
	p.VarDir = filepath.Join(home, "hero", "var", sock)
	p.LogFile = filepath.Join(p.VarDir, "host.log")
	if p.Layout == LayoutSystem {
		p.VarDir, p.LogFile = f.StateDir, "" // the journal keeps the log
	}
	p.DataDir = pick(f.DataDir, EnvDataDir, defData)
	p.Address = pick(f.Address, EnvAddress, "")
	p.Port = BasePort + f.Instance
	if f.Port != 0 {
		p.Port = f.Port
	} else if v := getenv(EnvPort); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return Paths{}, fmt.Errorf("%s=%q: not a port number", EnvPort, v)
		}
		p.Port = n
	}
	if p.Port < 1 || p.Port > 65535 {
		return Paths{}, fmt.Errorf("port %d: must be 1..65535", p.Port)
	}
	return p, nil
}
