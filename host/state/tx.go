package state

import (
	"bytes"
	"errors"

	"github.com/dgraph-io/badger/v4"

	"github.com/threefoldtech/hero_codescalers/core"
)

// tx adapts a Badger transaction to core.Tx. Keys and values are copied
// out: Badger's slices are only valid until the transaction ends, and
// core's callers keep them longer than that.
type tx struct{ txn *badger.Txn }

var _ core.Tx = tx{}

func (t tx) Get(key string) ([]byte, error) {
	item, err := t.txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, core.ErrKeyNotFound
	}
	if err != nil {
		return nil, txError(err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, txError(err)
	}
	return v, nil
}

func (t tx) Set(key string, value []byte) error {
	// Badger keeps the slice until commit; the caller may reuse it sooner.
	return txError(t.txn.Set([]byte(key), bytes.Clone(value)))
}

func (t tx) Delete(key string) error {
	return txError(t.txn.Delete([]byte(key)))
}

// Scan walks the keys with prefix. The iterator sees the writes this
// transaction made before the Scan began, like core/memstore.
func (t tx) Scan(prefix string, reverse bool, fn func(key string, value []byte) (bool, error)) error {
	p := []byte(prefix)
	opts := badger.IteratorOptions{Prefix: p, Reverse: reverse}
	end := prefixEnd(p)
	switch {
	case reverse && end == nil:
		// No key follows every key with this prefix (it is empty or all
		// 0xFF), so start from the very last key; Badger would start a
		// prefixed reverse Rewind at the prefix itself.
		opts.Prefix = nil
	case reverse:
		// The reverse Seek below may land on end, which lacks p; with
		// the prefix end and p share, Valid tells that landing from
		// landing nowhere (where Item must not be read: it panics).
		opts.Prefix = end[:len(end)-1]
	}
	it := t.txn.NewIterator(opts)
	defer it.Close()
	switch {
	case !reverse:
		it.Seek(p)
	case end == nil:
		it.Rewind()
	default:
		// A reverse Seek lands on the last key <= end: end itself when it
		// exists (not ours, so step past it), else the last prefixed key,
		// or before them all, or nowhere when no key sorts before end.
		it.Seek(end)
		if it.Valid() && bytes.Equal(it.Item().Key(), end) {
			it.Next()
		}
	}
	for ; it.ValidForPrefix(p); it.Next() {
		item := it.Item()
		v, err := item.ValueCopy(nil)
		if err != nil {
			return txError(err)
		}
		more, err := fn(string(item.Key()), v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// prefixEnd is the smallest key greater than every key with prefix p, or
// nil when there is none. Seeking there is exact where the usual p+0xFF
// would miss keys such as p+"\xff\xff".
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// txError turns Badger's errors into core errors. They are all programming
// or capacity faults, never the user's input, hence Internal.
func txError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, badger.ErrReadOnlyTxn):
		return core.Wrap(err, core.Internal, "write in a read-only transaction")
	case errors.Is(err, badger.ErrTxnTooBig):
		return core.Wrap(err, core.Internal, "state transaction too large")
	case errors.Is(err, badger.ErrEmptyKey), errors.Is(err, badger.ErrInvalidKey):
		return core.Wrap(err, core.Internal, "invalid state key")
	case errors.Is(err, badger.ErrDBClosed):
		return core.Wrap(err, core.Unavailable, "store closed")
	}
	return core.Wrap(err, core.Internal, "state access failed: %v", err)
}
