package etcdb

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Defs are the settings of login.defs and /etc/default/useradd the accounts
// plugins follow, with shadow-utils' own defaults for what is unset.
type Defs struct {
	UIDMin, UIDMax uint32
	GIDMin, GIDMax uint32
	// PassMinDays, PassMaxDays and PassWarnAge fill a new shadow entry's
	// aging fields, verbatim ("" when unset, as useradd writes -1).
	PassMinDays, PassMaxDays, PassWarnAge string
	HomeMode                              os.FileMode // HOME_MODE, else 0777 &^ UMASK
	HomeBase                              string      // HOME of /etc/default/useradd: where a default home goes
	Shell                                 string      // SHELL of /etc/default/useradd
	// SubUID and SubGID are the subordinate id ranges a new user gets.
	SubUID, SubGID SubIDs
}

// LoadDefs reads dir/login.defs and dir/default/useradd; missing files give
// the defaults.
func LoadDefs(dir string) Defs {
	kv := readKV(filepath.Join(dir, "login.defs"), " \t")
	d := Defs{
		UIDMin: num(kv, "UID_MIN", 1000), UIDMax: num(kv, "UID_MAX", 60000),
		GIDMin: num(kv, "GID_MIN", 1000), GIDMax: num(kv, "GID_MAX", 60000),
		PassMinDays: numText(kv, "PASS_MIN_DAYS"), PassMaxDays: numText(kv, "PASS_MAX_DAYS"),
		PassWarnAge: numText(kv, "PASS_WARN_AGE"),
		SubUID:      loadSubIDs(kv, "SUB_UID"), SubGID: loadSubIDs(kv, "SUB_GID"),
	}
	umask := uint64(0o022)
	if v, err := strconv.ParseUint(kv["UMASK"], 8, 32); err == nil {
		umask = v
	}
	d.HomeMode = os.FileMode(0o777 &^ umask)
	if v, err := strconv.ParseUint(kv["HOME_MODE"], 8, 32); err == nil {
		d.HomeMode = os.FileMode(v)
	}
	ua := readKV(filepath.Join(dir, "default", "useradd"), "=")
	d.HomeBase, d.Shell = "/home", "/bin/sh"
	if v := ua["HOME"]; strings.HasPrefix(v, "/") {
		d.HomeBase = v
	}
	if v := ua["SHELL"]; strings.HasPrefix(v, "/") {
		d.Shell = v
	}
	return d
}

// DefaultHome is the home useradd gives a user when none is named.
func (d Defs) DefaultHome(name string) string { return filepath.Join(d.HomeBase, name) }

// readKV reads "KEY<sep>VALUE" lines, skipping comments.
func readKV(path, sep string) map[string]string {
	out := map[string]string{}
	data, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		i := strings.IndexAny(text, sep)
		if i < 0 {
			continue
		}
		out[text[:i]] = strings.Trim(strings.TrimSpace(text[i+1:]), `"`)
	}
	return out
}

func num(kv map[string]string, key string, def uint32) uint32 {
	if v, err := strconv.ParseUint(kv[key], 10, 32); err == nil {
		return uint32(v)
	}
	return def
}

// numText returns a numeric setting as written, or "" (unset, or -1).
func numText(kv map[string]string, key string) string {
	v, err := strconv.ParseInt(kv[key], 10, 64)
	if err != nil || v < 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// LoginDefs reads dir/login.defs' settings (KEY VALUE lines).
func LoginDefs(dir string) map[string]string {
	return readKV(filepath.Join(dir, "login.defs"), " \t")
}

// UseraddDefaults reads dir/default/useradd's settings (KEY=VALUE lines).
func UseraddDefaults(dir string) map[string]string {
	return readKV(filepath.Join(dir, "default", "useradd"), "=")
}
