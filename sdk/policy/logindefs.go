package policy

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// loginDefs is login.defs as "KEY VALUE" pairs.
type loginDefs map[string]string

// readLoginDefs reads path; a missing or unreadable file gives no pairs.
func readLoginDefs(path string) loginDefs {
	out := loginDefs{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if f := strings.Fields(line); len(f) >= 2 {
			out[f[0]] = strings.Trim(f[1], `"`)
		}
	}
	return out
}

func (d loginDefs) num(key string, def uint32) uint32 {
	if v, err := strconv.ParseUint(d[key], 10, 32); err == nil {
		return uint32(v)
	}
	return def
}
