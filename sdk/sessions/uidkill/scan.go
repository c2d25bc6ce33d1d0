package uidkill

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// process is one process that runs with the target uid as one of its
// real, effective, saved or filesystem uids — what userdel counts.
type process struct {
	pid, ppid int
	zombie    bool
	// reachable: its real or saved uid is the target, so kill(-1) from
	// a thread of that uid reaches it.
	reachable bool
}

// scan lists uid's processes under procDir: the live ones and the zombies.
func scan(procDir string, uid int) (live, zombies []process, err error) {
	d, err := os.Open(procDir)
	if err != nil {
		return nil, nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, nil, err
	}
	self := os.Getpid()
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 || pid == self {
			continue
		}
		p, ok := readProcess(procDir, pid, uid)
		switch {
		case !ok:
		case p.zombie:
			zombies = append(zombies, p)
		default:
			live = append(live, p)
		}
	}
	return live, zombies, nil
}

// readProcess reads pid's status and reports whether it runs with uid; a
// process that is gone is not.
func readProcess(procDir string, pid, uid int) (process, bool) {
	data, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "status"))
	if err != nil {
		return process{}, false
	}
	p := process{pid: pid}
	var uids []string
	threads := 1
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "State":
			// "Z (zombie)", "X (dead)": it has exited.
			p.zombie = strings.HasPrefix(val, "Z") || strings.HasPrefix(val, "X")
		case "Threads":
			threads, _ = strconv.Atoi(val)
		case "PPid":
			p.ppid, _ = strconv.Atoi(val)
		case "Uid":
			uids = strings.Fields(val) // real, effective, saved, fs
		}
	}
	// A zombie leader whose other threads still run (its main thread
	// called pthread_exit) has not exited.
	p.zombie = p.zombie && threads <= 1
	want := strconv.Itoa(uid)
	match := false
	for i, u := range uids {
		if u == want {
			match = true
			if i == 0 || i == 2 {
				p.reachable = true
			}
		}
	}
	return p, match
}
