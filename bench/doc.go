// Package bench holds the measurement programs of `make bench`
// (scripts/bench.sh), apart from the product's packages, which never
// import them:
//
//   - bench/health: JSON-RPC health over rpc.sock against a bare net/http
//     handler (issue 2);
//   - bench/plugins: a plugin round trip against bare gRPC, and a host's
//     start to all plugins healthy (issue 3);
//   - bench/dashboard: the dashboard's Users page against JSON-RPC
//     user.list of the same page, and its weight (issue 12).
//
// The rows that need the sandbox's real tools or a package's own test
// harness stay tests beside what they drive, behind HC_BENCH=1:
// integration's TestBenchAccounts, TestBenchLifecycle, TestBenchFleet and
// TestBenchFootprint, and host/fleet's TestBenchAgents.
package bench
