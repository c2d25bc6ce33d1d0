package mdsnippet

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The guide, examples/README.md, shows every file of examples/tmuxsessions
// whole; a reader copies them from the page, so the page and the tree must
// not drift. The example's own unit tests (tmux_test.go) are not on the
// page. integration/walkthrough_test.go builds, checks and deploys what
// the page holds.
const (
	guide   = "../../examples/README.md"
	example = "../../examples/tmuxsessions"
)

var offPage = []string{"tmux_test.go"}

func TestGuideIsTheExample(t *testing.T) {
	md, err := os.ReadFile(guide)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := Parse(md)
	if err != nil {
		t.Fatalf("%s: %v", guide, err)
	}
	files := Files(blocks)
	for name, text := range files {
		tree, err := os.ReadFile(filepath.Join(example, name))
		if err != nil {
			t.Errorf("the guide shows %s, which examples/tmuxsessions does not have: %v", name, err)
			continue
		}
		if string(tree) != text {
			t.Errorf("the guide's %s differs from examples/tmuxsessions/%s: copy one onto the other", name, name)
		}
	}
	entries, err := os.ReadDir(example)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := files[e.Name()]; !ok && !slices.Contains(offPage, e.Name()) {
			t.Errorf("examples/tmuxsessions/%s is not in the guide: a reader of the page would not have it", e.Name())
		}
	}
	runs := 0
	for _, b := range blocks {
		if b.Run {
			runs++
		}
	}
	if runs < 2 {
		t.Errorf("the guide has %d blocks to run, want the module's and the build's", runs)
	}
}
