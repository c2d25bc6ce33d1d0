// Package state is the host's durable state: the Badger v4 implementation of
// core.Store.
//
// The host keeps everything node-local here (users, groups, nodes, admins,
// the whitelist, the audit log, the provisioning journal, the plugin lock),
// so the store is built to survive what a daemon meets in the field:
//
//   - a crash: every commit is fsynced (SyncWrites) before Update returns;
//   - a stolen disk or backup: Badger encrypts everything at rest with
//     AES-256, the key derived from SECRET_CODESCALERS with Argon2id;
//   - a second host started on the same data dir: a clear error naming the
//     process that holds it, instead of Badger's internal message;
//   - an upgrade or a downgrade: a schema version with ordered migrations,
//     and a refusal to open a database written by a newer binary;
//   - concurrent writers: conflicting Updates are retried, so core's use
//     cases need not know about optimistic concurrency.
//
// The data dir (created 0700) holds:
//
//	hero_codescalers.lock  flock held while the store is open; holds the pid
//	secret                 generated secret, only when none was configured (0600)
//	kdf.json               Argon2id salt and parameters of this database (0600)
//	badger/                Badger's own files
//
// Badger lives in a subdirectory because it owns its directory: it flocks
// the directory itself and writes LOCK, MANIFEST, KEYREGISTRY and DISCARD
// there, so keeping our files beside it would only invite name clashes.
//
// The sub-package storetest holds the contract every core.Store passes; the
// tests here run it against both this store and core/memstore.
package state
