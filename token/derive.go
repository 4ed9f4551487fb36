package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// Keys derived from the master key, for secrets every replica must compute
// alike without storing them (a rotated refresh token's successor).
// HMAC-SHA256 as a PRF (RFC 2104; the extract-then-expand shape of HKDF,
// RFC 5869, with one output block): the root is HMAC(master key, a
// fixed label), each use's key HMAC(root, its label), so no derived key
// reveals the master key or another use's key.

func deriveRoot(masterKey []byte) [32]byte {
	m := hmac.New(sha256.New, masterKey)
	m.Write([]byte("actas derived keys v1"))
	var k [32]byte
	m.Sum(k[:0])
	return k
}

// Derive returns HMAC-SHA256 under the key of this use (label) of data:
// 32 bytes that only a holder of the master key can compute.
func (s *Sealer) Derive(label string, data ...[]byte) []byte {
	m := hmac.New(sha256.New, s.derive[:])
	m.Write([]byte(label))
	key := m.Sum(nil)
	m = hmac.New(sha256.New, key)
	for _, d := range data {
		// Length-prefixed, so that ("ab","c") and ("a","bc") differ.
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(d))))
		m.Write(d)
	}
	return m.Sum(nil)
}
