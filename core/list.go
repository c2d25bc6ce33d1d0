package core

import (
	"encoding/json"
	"errors"
)

// listJSON decodes every value under prefix, in key order.
func listJSON[T any](store Store, prefix string) ([]T, error) {
	out := []T{}
	err := store.View(func(tx Tx) error {
		return tx.Scan(prefix, false, func(_ string, v []byte) (bool, error) {
			var t T
			if err := json.Unmarshal(v, &t); err != nil {
				return false, err
			}
			out = append(out, t)
			return true, nil
		})
	})
	return out, err
}

// notFound turns a missing key into a NotFound error naming the object.
func notFound(err error, kind, name string) error {
	if errors.Is(err, ErrKeyNotFound) {
		return &Error{Code: NotFound, Field: "name", Message: kind + " " + name + " not found"}
	}
	return err
}
