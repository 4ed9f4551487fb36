package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id parameters. Memory is in KiB.
type Params struct {
	Memory  uint32
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// OWASP is the OWASP Password Storage Cheat Sheet's first argon2id
// configuration: m=19 MiB, t=2, p=1.
var OWASP = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on stored parameters, so that a tampered or foreign hash cannot
// make a single verification allocate gigabytes.
const (
	maxMemory  = 256 * 1024 // KiB
	maxTime    = 16
	maxThreads = 16
	maxKeyLen  = 128
)

var (
	// ErrBusy means too many hashes were waiting; try again later.
	ErrBusy = errors.New("password: too many concurrent hashes")
	// ErrMalformed means a stored hash is not an argon2id PHC string this
	// package can verify.
	ErrMalformed = errors.New("password: malformed hash")
)

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of pw with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func Hash(pw string, p Params) string {
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt)
	return encode(p, salt, argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen))
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// dummyHash returns a PHC string with p's parameters, a random salt and
// a random key, which no password matches (but for a 2^-8·KeyLen
// chance): verifying against it costs what verifying a real hash costs,
// and making it costs no hash, so a server does not spend one argon2id
// run before it can serve.
func dummyHash(p Params) string {
	salt, key := make([]byte, p.SaltLen), make([]byte, p.KeyLen)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(key)
	return encode(p, salt, key)
}

// Verify reports whether pw matches the PHC string phc, comparing in
// constant time.
func Verify(phc, pw string) (bool, error) {
	p, salt, key, err := decode(phc)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

func decode(phc string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrMalformed
	}
	var m, t, th uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil || n != 3 {
		return p, nil, nil, ErrMalformed
	}
	if m < 8 || m > maxMemory || t < 1 || t > maxTime || th < 1 || th > maxThreads {
		return p, nil, nil, ErrMalformed
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > maxKeyLen {
		return p, nil, nil, ErrMalformed
	}
	p = Params{Memory: m, Time: t, Threads: uint8(th), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	return p, salt, key, nil
}

// Hasher runs hashes with bounded concurrency and a bounded queue.
type Hasher struct {
	params  Params
	slots   chan struct{} // one token per running hash
	queue   chan struct{} // one token per caller running or waiting
	maxWait time.Duration
	dummy   string
	obs     atomic.Pointer[Observer] // see observe.go
}

// NewHasher returns a Hasher that runs at most concurrency hashes at once,
// lets at most queue more callers wait, each for at most maxWait, and
// fails the rest at once with ErrBusy.
func NewHasher(p Params, concurrency, queue int, maxWait time.Duration) *Hasher {
	if concurrency < 1 {
		concurrency = 1
	}
	if queue < 0 {
		queue = 0
	}
	return &Hasher{
		params:  p,
		slots:   make(chan struct{}, concurrency),
		queue:   make(chan struct{}, concurrency+queue),
		maxWait: maxWait,
		dummy:   dummyHash(p),
	}
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// InFlight returns how many callers are running or waiting.
func (h *Hasher) InFlight() int { return len(h.queue) }

// queueSlot takes a place in the queue, then a slot (acquire in
// observe.go times it).
func (h *Hasher) queueSlot(ctx context.Context) error {
	select {
	case h.queue <- struct{}{}:
	default:
		return ErrBusy
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(h.maxWait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		<-h.queue
		return ErrBusy
	case <-ctx.Done():
		<-h.queue
		return ctx.Err()
	}
}

func (h *Hasher) release() {
	<-h.slots
	<-h.queue
}

// Hash hashes pw with the Hasher's parameters.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return Hash(pw, h.params), nil
}

// Verify checks pw against phc.
func (h *Hasher) Verify(ctx context.Context, phc, pw string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	return Verify(phc, pw)
}

// VerifyDummy does the work of a failed Verify against a hash made with
// the Hasher's parameters, for a user that does not exist. It always
// reports false.
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) (bool, error) {
	ok, err := h.Verify(ctx, h.dummy, pw)
	_ = ok
	return false, err
}
