package fleet

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// sealVersion prefixes a sealed value, so a future format can be told
// apart from this one.
const sealVersion = 1

// ErrTampered says a value did not open with the fleet's key: written
// without it, changed on the way, or moved from another key.
var ErrTampered = errors.New("value not sealed with this fleet's key (tampered, moved from another key, or written without the secret)")

// Sealer seals values with XChaCha20-Poly1305 under the fleet's seal key.
// The associated data binds a value to where it lives (bucket and key, or
// a message's subject), so a valid value copied to another key does not
// open there either.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer makes a Sealer from Keys.SealKey.
func NewSealer(key []byte) (*Sealer, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// ad is the associated data of a value at bucket/key.
func ad(bucket, key string) []byte { return []byte("hc-fleet-v1\x00" + bucket + "\x00" + key) }

// Seal encodes v as JSON and seals it for bucket/key: version byte, random
// 24-byte nonce, ciphertext with its tag.
func (s *Sealer) Seal(bucket, key string, v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+chacha20poly1305.NonceSizeX, 1+chacha20poly1305.NonceSizeX+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, out[1:], plain, ad(bucket, key)), nil
}

// Open checks and opens a value sealed for bucket/key into v. Any failure
// is ErrTampered: a caller never applies what did not open.
func (s *Sealer) Open(bucket, key string, data []byte, v any) error {
	if len(data) < 1+chacha20poly1305.NonceSizeX+s.aead.Overhead() || data[0] != sealVersion {
		return ErrTampered
	}
	nonce := data[1 : 1+chacha20poly1305.NonceSizeX]
	plain, err := s.aead.Open(nil, nonce, data[1+chacha20poly1305.NonceSizeX:], ad(bucket, key))
	if err != nil {
		return ErrTampered
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("%w: %v", ErrTampered, err)
	}
	return nil
}
