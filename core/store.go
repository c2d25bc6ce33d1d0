package core

import (
	"encoding/json"
	"errors"
)

// ErrKeyNotFound is returned by Tx.Get for a missing key.
var ErrKeyNotFound = errors.New("key not found")

// Store is the host's durable state: an ordered key-value store with
// serialisable transactions. The host backs it with Badger; core's tests use
// the in-memory version in core/memstore. Keys are namespaced by a bucket
// prefix such as "user/" or "audit/".
type Store interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committed only when fn
	// returns nil. A conflict with a concurrent transaction is retried.
	Update(fn func(Tx) error) error
	// Close flushes and releases the store.
	Close() error
}

// Tx is one transaction of a Store.
type Tx interface {
	// Get returns the value of key, or ErrKeyNotFound.
	Get(key string) ([]byte, error)
	// Set writes key.
	Set(key string, value []byte) error
	// Delete removes key; a missing key is not an error.
	Delete(key string) error
	// Scan calls fn for each key with prefix in key order (reverse order
	// when reverse is set) until fn returns false or an error.
	Scan(prefix string, reverse bool, fn func(key string, value []byte) (bool, error)) error
}

// getJSON decodes the value at key into v; found is false for a missing key.
func getJSON(tx Tx, key string, v any) (found bool, err error) {
	b, err := tx.Get(key)
	if errors.Is(err, ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

// putJSON encodes v at key.
func putJSON(tx Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Set(key, b)
}
