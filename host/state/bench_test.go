package state

import (
	"strconv"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
)

// BenchmarkOpen is the start-up cost with the shipped Argon2id parameters,
// which dominate it.
func BenchmarkOpen(b *testing.B) {
	old := defaultKDF
	defaultKDF = productionKDF
	b.Cleanup(func() { defaultKDF = old })
	dir := b.TempDir()
	openAt(b, dir, testSecret).Close()
	for b.Loop() {
		s, err := Open(Options{Dir: dir, Secret: testSecret})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkUpdate is one small durable commit (an fsync each).
func BenchmarkUpdate(b *testing.B) {
	s := openAt(b, b.TempDir(), testSecret)
	value := []byte(`{"name":"alice","uid":1001,"groups":["codescalers"]}`)
	i := 0
	for b.Loop() {
		i++
		err := s.Update(func(tx core.Tx) error { return tx.Set("user/"+strconv.Itoa(i%1000), value) })
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkView is a point read plus a 100-key scan.
func BenchmarkView(b *testing.B) {
	s := openAt(b, b.TempDir(), testSecret)
	err := s.Update(func(tx core.Tx) error {
		for i := range 100 {
			if err := tx.Set("user/"+strconv.Itoa(i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		err := s.View(func(tx core.Tx) error {
			if _, err := tx.Get("user/42"); err != nil {
				return err
			}
			return tx.Scan("user/", false, func(string, []byte) (bool, error) { return true, nil })
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
