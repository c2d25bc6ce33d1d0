package fleet

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"runtime/debug"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/argon2"
)

// masterSalt is the fleet's Argon2id salt. It is fixed, not random: every
// node must derive the same keys from the passphrase alone, before it can
// reach any other node to learn a salt. So it does not keep a guesser
// from testing one guess against every fleet at once (each fleet's public
// nkey and certificates follow from its passphrase): what protects a
// fleet is its passphrase's strength (at least 12 characters are asked;
// give a long random one) and Argon2id's cost per guess.
const masterSalt = "hero_codescalers fleet v1"

// The Argon2id cost of the master key: RFC 9106's second recommended
// option (64 MiB, 3 passes), as the state's key. A host pays it once, at
// fleet-init or fleet-join: it keeps the master key in its encrypted state.
var argonTime, argonMemoryKiB uint32 = 3, 64 << 10

// DeriveMaster turns SECRET_CODESCALERS into the fleet's master key. The
// 64 MiB work area is handed back to the system afterwards: a host in a
// fleet keeps only the 32-byte result.
func DeriveMaster(secret string) []byte {
	key := argon2.IDKey([]byte(secret), []byte(masterSalt), argonTime, argonMemoryKiB, 2, 32)
	debug.FreeOSMemory()
	return key
}

// Keys are the fleet's keys, each derived from the master key by HKDF
// with its own purpose, so no two uses share a key and learning one (a
// route password travels in a CONNECT, inside TLS) reveals nothing of the
// others.
type Keys struct {
	master []byte
}

// NewKeys wraps a master key from DeriveMaster.
func NewKeys(master []byte) *Keys { return &Keys{master: append([]byte(nil), master...)} }

// sub derives n bytes for purpose.
func (k *Keys) sub(purpose string, n int) []byte {
	b, err := hkdf.Key(sha256.New, k.master, nil, "hero_codescalers fleet v1 "+purpose, n)
	if err != nil {
		panic("fleet: hkdf: " + err.Error()) // only for n beyond 255*32 bytes
	}
	return b
}

// RouteUser and RoutePassword are the cluster routes' credentials; the
// routes run inside mutual TLS, which is what keeps them off the wire.
func (k *Keys) RouteUser() string { return "route-" + hex.EncodeToString(k.sub("route user", 6)) }

// RoutePassword is the routes' password.
func (k *Keys) RoutePassword() string {
	return base64.RawURLEncoding.EncodeToString(k.sub("route password", 24))
}

// ClientNkey is the key the host's own NATS client signs its server's
// challenge with: the secret itself never goes on any wire.
func (k *Keys) ClientNkey() nkeys.KeyPair { return k.nkey("client nkey", nkeys.PrefixByteUser) }

// SystemNkey is the key of the system account's one user: the host asks
// JetStream to drop an evicted replica through it.
func (k *Keys) SystemNkey() nkeys.KeyPair { return k.nkey("system nkey", nkeys.PrefixByteUser) }

// LeafNkey is the key a leaf node signs the replica's challenge with.
func (k *Keys) LeafNkey() nkeys.KeyPair { return k.nkey("leaf nkey", nkeys.PrefixByteUser) }

func (k *Keys) nkey(purpose string, prefix nkeys.PrefixByte) nkeys.KeyPair {
	kp, err := nkeys.FromRawSeed(prefix, k.sub(purpose, 32))
	if err != nil {
		panic("fleet: nkey: " + err.Error()) // only for a bad prefix
	}
	return kp
}

// CASeed is the ed25519 seed of the fleet's certificate authority.
func (k *Keys) CASeed() []byte { return k.sub("ca key", 32) }

// SealKey is the XChaCha20-Poly1305 key that seals every value the fleet
// keeps in its store and every message its nodes exchange.
func (k *Keys) SealKey() []byte { return k.sub("seal key", 32) }

// Fingerprint names the secret without revealing it, so two nodes' logs
// can show that their secrets differ.
func (k *Keys) Fingerprint() string { return hex.EncodeToString(k.sub("fingerprint", 4)) }

// publicKey is kp's public key; an nkey made from a seed always has one.
func publicKey(kp nkeys.KeyPair) string {
	pub, err := kp.PublicKey()
	if err != nil {
		panic("fleet: nkey public key: " + err.Error())
	}
	return pub
}
