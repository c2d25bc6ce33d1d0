package state

import (
	"os"
	"testing"
	"time"
)

// productionKDF keeps the shipped parameters: package variables are
// initialised before TestMain lowers defaultKDF.
var productionKDF = defaultKDF

// TestMain makes new test databases cheap to key: the shipped Argon2id
// parameters cost 64 MiB and ~0.1 s per Open, which dozens of Opens (and
// -race) multiply. The parameters travel in kdf.json, so every path is the
// same; BenchmarkOpen measures the real ones.
func TestMain(m *testing.M) {
	defaultKDF = kdfParams{Algorithm: "argon2id", Time: 1, MemoryKiB: 1 << 10, Threads: 1}
	os.Exit(m.Run())
}

// TestProductionKDF guards the shipped parameters against a quiet
// weakening, and shows what they cost here.
func TestProductionKDF(t *testing.T) {
	p := productionKDF
	if p.Algorithm != "argon2id" || p.MemoryKiB < 64<<10 || p.Time < 1 || p.Threads < 1 {
		t.Fatalf("weak key derivation: %+v", p)
	}
	p.Salt = make([]byte, saltLen)
	if err := p.validate(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	deriveKey(testSecret, p)
	t.Logf("argon2id t=%d m=%d MiB p=%d: %v", p.Time, p.MemoryKiB>>10, p.Threads, time.Since(start))
}
