// Package fleet makes a host a node of a fleet (DESIGN.md §6): the
// fleet's desired state — users, groups, keys, quotas, lock state,
// placement by node labels — lives in NATS JetStream key-value buckets,
// with the NATS server embedded in every host (or an external NATS cluster
// given with --nats-url), and each host's agent converges its own machine
// to it through the same core use cases and plugins a local call runs.
//
// Nothing of it runs on a host outside a fleet: no NATS server, no port.
// fleet-init (the first node) and fleet-join (the others) persist the
// membership in the host's encrypted Badger state, and a restarted host
// rejoins by itself.
//
// The files, by concern:
//
//	keys.go     Argon2id master key from SECRET_CODESCALERS, HKDF per purpose
//	ca.go       the CA derived from the secret, each host's certificate, TLS 1.3
//	seal.go     XChaCha20-Poly1305 sealing bound to bucket and key
//	ports.go    the ports of instance N, the node id and name
//	server.go   the embedded nats-server: replica (routes) or leaf node
//	state.go    the membership kept in the local state
//	store.go    the buckets and their sealed, retried reads and writes
//	join.go     fleet-init, fleet-join, the join handshake, eviction
//	agent.go    the convergence loop: the desired feed, periodic resync, statuses
//	announce.go announcements and the uid report
//	ids.go      uid and gid allocation by compare-and-set
//	ask.go      questions to every node (sessions) by request/reply
//	fleet.go    Fleet: the host Component and core.FleetBackend
//
// Security: routes and leaf connections run mutual TLS 1.3 with the CA
// derived from the secret (route credentials inside), the local client
// port listens on 127.0.0.1 only and admits the host's own nkey only
// (challenge-response), and every value and message is sealed with a key
// derived from the secret and bound to where it lives; a value that does
// not open is refused and reported, never applied.
package fleet
