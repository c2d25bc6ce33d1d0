package api

// Version is the version of hero_codescalers, set at build time with
// -ldflags '-X github.com/threefoldtech/hero_codescalers/core/api.Version=…'.
// It lives here, not in host, because both binaries report it: the host in
// health and stats, the CLI (which links no host code) with --version.
var Version = "0.1.0-dev"
