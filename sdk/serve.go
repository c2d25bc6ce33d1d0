package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
)

// LogLevelEnv names the environment variable that sets the default
// logger's level (trace, debug, info, warn, error); default info.
const LogLevelEnv = "HERO_CODESCALERS_PLUGIN_LOG_LEVEL"

// Serve runs the plugin and never returns. With the argument "describe" it
// prints the manifest JSON and exits. Otherwise it logs JSON to stderr,
// keeps stdout for the handshake line only, arms the parent-death watchdog,
// serves identity and the configured concerns over go-plugin's gRPC, and
// exits 0 after SIGTERM or its host's death, once in-flight calls finished
// or StopGrace ran out.
func Serve(cfg Config) {
	os.Exit(serve(cfg, os.Args[1:], os.Stdout, os.Stderr))
}

func serve(cfg Config, args []string, stdout, stderr *os.File) int {
	cfg = cfg.withDefaults()
	m := cfg.Manifest()
	if err := m.Validate(); err != nil {
		fmt.Fprintf(stderr, "plugin %q: invalid sdk.Config: %v\n", cfg.Name, err)
		return 2
	}
	if len(args) > 0 {
		return runCommand(m, args, stdout, stderr)
	}
	setMemoryLimit()
	go ReleaseWhenIdle(context.Background())
	logger := setupLogging(cfg, stderr)
	if err := guardStdout(stderr); err != nil {
		logger.Error("cannot guard stdout", "error", err)
		return 1
	}
	if cfg.OnStart != nil {
		cfg.OnStart(logger)
	}
	st := newStopper(logger, cfg.StopGrace, stderr)
	watchParent(cfg.WatchInterval, logger, func() { st.stop("parent exited") })
	// A dead host leaves a broken stderr pipe; ignoring SIGPIPE lets the
	// stopper finish in-flight calls (an /etc rewrite, say) instead of
	// dying on the first log line.
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		<-sigs
		st.stop("SIGTERM")
	}()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         cfg.pluginSet(),
		GRPCServer:      st.newServer,
		Logger:          logger,
	})
	logger.Info("plugin stopped")
	return 0
}

// runCommand answers the subcommands a plugin binary has besides serving.
func runCommand(m Manifest, args []string, stdout, stderr io.Writer) int {
	if args[0] != "describe" || len(args) > 1 {
		fmt.Fprintf(stderr, "usage: %s [describe]\n\nThis binary is a hero_codescalers plugin; the host starts it.\n"+
			"\"describe\" prints its manifest.\n", m.Name)
		return 2
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		fmt.Fprintf(stderr, "describe: %v\n", err)
		return 1
	}
	return 0
}

// setupLogging makes hclog JSON on stderr the only log: the Config's
// logger or a new one, also as hclog's default and behind the standard
// log package, so stray log.Printf calls arrive at the host parsed.
func setupLogging(cfg Config, stderr io.Writer) hclog.Logger {
	logger := cfg.Logger
	if logger == nil {
		level := hclog.LevelFromString(os.Getenv(LogLevelEnv))
		if level == hclog.NoLevel {
			level = hclog.Info
		}
		logger = hclog.New(&hclog.LoggerOptions{
			Name:       cfg.Name,
			Level:      level,
			Output:     stderr,
			JSONFormat: true,
		})
	}
	hclog.SetDefault(logger)
	log.SetFlags(0)
	log.SetPrefix("")
	log.SetOutput(logger.StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true}))
	return logger
}
