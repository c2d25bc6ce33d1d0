package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/host/state"
)

// A data dir that vanished. The state is the host's memory of which
// accounts it manages; if the data dir is deleted, or the host is started
// with another HOME or HERO_CODESCALERS_DATA_DIR by mistake, a host that
// silently starts on a fresh state has forgotten the machine's managed
// users. So each data dir a host opened is recorded by a marker outside
// it, and a host whose data dir has a marker but no state refuses to
// start unless told --adopt, which imports the managed users as reconcile
// finds them. A data dir that was never used — a second instance, a test,
// a benchmark — has no marker and starts fresh.
//
// The markers live in Config.MarkerDir, which the CLI puts in the host
// user's XDG state dir (~/.local/state/hero_codescalers/data-dirs):
// beside the pid file would not do, since the socket dir may be on a
// tmpfs (/run, /tmp) that a reboot clears, and beside the data dir would
// go with it when its parent (~/hero/var) is wiped. The home survives
// both.

// dataDirMarker is the marker file of dataDir in dir: one per data dir,
// named by a hash of its absolute path.
func dataDirMarker(dir, dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(filepath.Clean(abs)))
	return filepath.Join(dir, hex.EncodeToString(sum[:12]))
}

// checkDataDir refuses to start on a fresh state where this host's data
// dir was used before, unless cfg.Adopt.
func checkDataDir(cfg Config) error {
	if cfg.MarkerDir == "" || state.Exists(cfg.Paths.DataDir) {
		return nil
	}
	marker := dataDirMarker(cfg.MarkerDir, cfg.Paths.DataDir)
	b, err := os.ReadFile(marker)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", marker, err)
	}
	if cfg.Adopt {
		return nil
	}
	since := "before"
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "first_used = "); ok {
			since = "since " + strings.Trim(v, `"`)
		}
	}
	return fmt.Errorf("the data dir %s holds no state, but this host used it %s (as %s records): "+
		"starting on a fresh state would forget the managed users this machine still has. "+
		"Restore the data dir; or start with --adopt to import the managed users as reconcile finds them "+
		"(members of the marker group, with their uid, groups, keys and quota); "+
		"or, to really start empty, remove %s", cfg.Paths.DataDir, since, marker, marker)
}

// markDataDir records that this host uses its data dir, once.
func markDataDir(cfg Config, log *slog.Logger) {
	if cfg.MarkerDir == "" {
		return
	}
	marker := dataDirMarker(cfg.MarkerDir, cfg.Paths.DataDir)
	if _, err := os.Stat(marker); err == nil {
		return
	}
	abs, _ := filepath.Abs(cfg.Paths.DataDir)
	text := fmt.Sprintf("# hero_codescalers used this data dir; if it vanishes, the host refuses to start\n"+
		"# on a fresh state unless told --adopt.\ndata_dir = %q\nfirst_used = %q\n", abs, time.Now().UTC().Format(time.RFC3339))
	if err := writeMarker(marker, []byte(text)); err != nil {
		log.Warn("cannot record the data dir's marker; a vanished data dir will not be noticed", "marker", marker, "err", err)
	}
}

func writeMarker(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// adopt imports the machine's managed users into the state, when asked.
// It needs the plugins: the accounts, keys and quotas are read through
// them, as reconcile reads them.
func adopt(ctx context.Context, cfg Config, svc *core.Service, log *slog.Logger) error {
	if !cfg.Adopt {
		return nil
	}
	if cfg.NoPlugins {
		return errors.New("--adopt reads the machine's accounts through the plugins: it cannot run with --no-plugins")
	}
	names, err := svc.Adopt(ctx)
	if err != nil {
		return fmt.Errorf("adopt the machine's managed users: %w", err)
	}
	log.Info("adopted the machine's managed users into the state", "count", len(names), "users", strings.Join(names, ","))
	return nil
}
