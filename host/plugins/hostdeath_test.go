package plugins_test

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk"
)

// hostReport is the first line of the testhost program.
type hostReport struct {
	Ready   bool              `json:"ready"`
	Error   string            `json:"error"`
	Calls   map[string]string `json:"calls"`
	UID     int               `json:"uid"`
	Plugins []core.PluginInfo `json:"plugins"`
}

// Killing the host with SIGKILL leaves no plugin process behind: the
// plugins notice their parent's death and exit.
func TestHostKilledLeavesNoPlugins(t *testing.T) {
	dir := pluginDir(t)
	fp := binary(t, "fakeplugin")
	for _, c := range sdk.Concerns {
		install(t, dir, fp, "tp-"+c)
	}
	host := exec.Command(binary(t, "testhost"), "-dir", dir, "-mode", "direct")
	stdin, _ := host.StdinPipe() // held open: the host runs until killed
	defer stdin.Close()
	stdout, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	var rep hostReport
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&rep); err != nil {
		host.Process.Kill()
		t.Fatalf("testhost report: %v", err)
	}
	if !rep.Ready {
		host.Process.Kill()
		t.Fatalf("testhost: %+v", rep)
	}
	var pids []int
	for _, p := range rep.Plugins {
		pids = append(pids, p.PID)
		if rep.Calls[p.Concern] != "ok" {
			t.Errorf("%s call: %s", p.Concern, rep.Calls[p.Concern])
		}
	}
	if err := host.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	waitFor(t, 10*time.Second, "every plugin to exit after its host", func() bool {
		for _, pid := range pids {
			if alive(pid) {
				return false
			}
		}
		return true
	})
}
