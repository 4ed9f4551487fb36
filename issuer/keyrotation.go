package issuer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// Signing-key rotation, by an operator (RotateKeys) or automatically
// (key_rotation_period). The automatic one must cost nothing while no
// rotation is due, however many tenants there are: it decides from the
// stored keys whether one is due before it generates anything, writes
// nothing when none is, remembers when each tenant is next due so that
// it reads a tenant's keys again only then, goes through the tenants a
// page per tick, and runs beside the revocation sync, never in its way.

// RotateKeys starts a signing-key rotation for a tenant: new keys for ID
// and access tokens are published at once and start signing after delay;
// the keys they replace go on signing until then, and stay in JWKS until
// every token they can have signed has expired (delay + the tenant's
// access token lifetime). It returns the new keys.
func (i *Issuer) RotateKeys(ctx context.Context, tenantName string, delay time.Duration) ([]*actas.SigningKey, error) {
	t, err := i.TenantByName(ctx, tenantName)
	if err != nil {
		return nil, err
	}
	return i.rotateKeys(ctx, t, delay, nil)
}

// errNotDue aborts a rotation's transaction, writing nothing, when the
// keys as stored say no rotation is due any more (another replica did it).
var errNotDue = errors.New("no rotation due")

// rotateKeys rotates t's keys; if due is not nil, only when due says so
// of the keys as stored: checked before generating anything, and again
// in the write's transaction (so that two replicas running the automatic
// rotation rotate once). It returns nil, nil when no rotation was due.
func (i *Issuer) rotateKeys(ctx context.Context, t *actas.Tenant, delay time.Duration, due func([]*actas.SigningKey, time.Time) bool) ([]*actas.SigningKey, error) {
	now := i.now()
	if due != nil {
		keys, err := i.store.SigningKeys(ctx, t.ID)
		if err != nil {
			return nil, wrap("signing keys", err)
		}
		if !due(keys, now) {
			return nil, nil
		}
	}
	activate := now.Add(delay)
	retireAt := activate.Add(t.Settings.AccessTTL.D())
	// Generate outside the transaction: an RSA key takes a while, and the
	// store's writer must not wait for it.
	var created []*actas.SigningKey
	for _, use := range []string{actas.KeyUseID, actas.KeyUseAccess} {
		k, err := token.GenerateKey(i.sealer, t.ID, use, t.Settings.SigningAlg, now)
		if err != nil {
			return nil, wrap("generate signing key", err)
		}
		k.ActivateAt = activate
		if delay > 0 {
			k.State = actas.KeyNext
		}
		created = append(created, k)
	}
	_, err := i.store.UpdateSigningKeys(ctx, t.ID, func(keys []*actas.SigningKey) ([]*actas.SigningKey, error) {
		if due != nil && !due(keys, now) {
			return nil, errNotDue
		}
		for _, k := range keys {
			if inService(k) {
				k.State = actas.KeyRetired
				k.RetireUntil = retireAt
			}
		}
		return append(keys, created...), nil
	})
	if errors.Is(err, errNotDue) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("rotate keys", err)
	}
	i.keys.forget(t.ID)
	return created, nil
}

// newestSince is when the newest key of alg started (or starts) signing;
// pending reports that one starts after now (a rotation is pending).
func newestSince(keys []*actas.SigningKey, alg string, now time.Time) (newest time.Time, pending bool) {
	for _, k := range keys {
		since := keySince(k)
		if since.After(now) {
			pending = true
		}
		if k.Alg == alg && since.After(newest) {
			newest = since
		}
	}
	return newest, pending
}

// Pacing of the automatic rotation: a page of tenants per tick, a pass
// over every tenant at most once per rotatePassEvery, and at most
// rotateMaxPerTick rotations (each generates two keys) per tick; the
// rest wait for the next tick.
var rotateTick = 5 * time.Second // a variable for tests

const (
	rotatePage       = 256
	rotatePassEvery  = time.Minute
	rotateMaxPerTick = 2
)

// rotationScan is the automatic rotation's progress through the tenants.
type rotationScan struct {
	mu     sync.Mutex // one step at a time
	cursor string     // last tenant id done in this pass; "" at a pass's start
	pass   int        // passes started
	// newest is, per tenant with rotation on, a lower bound of when its
	// newest key started signing, as last read from the store. Keys only
	// ever get newer, so the tenant is not due before newest + period and
	// its keys need not be read until then; a bound too old costs one
	// read, never a missed rotation.
	newest map[string]seenKeys

	// A pass that completes without a failure leaves when the first of
	// its tenants can next be due and the store's ConfigVersion read as
	// it started. While that version is unchanged (no tenant, setting or
	// key changed anywhere) and that time has not come, a new pass would
	// read every page of tenants to learn nothing: the background loop
	// skips it (quiet), for one small read.
	passVersion int64     // ConfigVersion read as this pass started; -1: unknown
	passDue     time.Time // earliest next due time seen in this pass
	passFailed  bool      // a tenant of this pass failed, or was left unread
	quietSet    bool
	quietV      int64
	quietUntil  time.Time
}

// rotationQuiet reports whether the last complete pass saw no tenant that can be
// due before now and nothing has changed in the store since it started.
func (i *Issuer) rotationQuiet(ctx context.Context, now time.Time) bool {
	sc := &i.rotation
	sc.mu.Lock()
	set, v0, until := sc.quietSet, sc.quietV, sc.quietUntil
	sc.mu.Unlock()
	if !set || !now.Before(until) {
		return false
	}
	v, err := i.store.ConfigVersion(ctx)
	return err == nil && v == v0
}

type seenKeys struct {
	newest time.Time
	pass   int // the pass that last saw the tenant: entries of deleted tenants are dropped
}

// rotateStep goes through the next page of tenants and rotates the keys
// of those due, at most maxRotations of them (0: no bound). It returns
// how many it rotated, whether the pass over every tenant is complete,
// and the failures, one per tenant (it goes on past them).
func (i *Issuer) rotateStep(ctx context.Context, maxRotations int) (int, bool, error) {
	sc := &i.rotation
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.newest == nil {
		sc.newest = make(map[string]seenKeys)
	}
	if sc.cursor == "" {
		sc.pass++
		sc.passVersion, sc.passDue, sc.passFailed = -1, time.Time{}, false
		if v, err := i.store.ConfigVersion(ctx); err == nil {
			sc.passVersion = v
		}
	}
	dueAt := func(at time.Time) {
		if sc.passDue.IsZero() || at.Before(sc.passDue) {
			sc.passDue = at
		}
	}
	page, err := i.store.TenantsAfter(ctx, sc.cursor, rotatePage)
	if err != nil {
		if ctx.Err() == nil {
			i.log.Warn("automatic key rotation: listing tenants failed", "err", err)
		}
		return 0, false, wrap("list tenants", err)
	}
	var errs []error
	n := 0
	for _, t := range page {
		t.Settings = t.Settings.WithDefaults()
		period := t.Settings.KeyRotationPeriod.D()
		now := i.now()
		if period <= 0 {
			delete(sc.newest, t.ID)
			sc.cursor = t.ID
			continue
		}
		if seen, ok := sc.newest[t.ID]; ok && now.Sub(seen.newest) < period {
			sc.newest[t.ID] = seenKeys{seen.newest, sc.pass}
			dueAt(seen.newest.Add(period))
			sc.cursor = t.ID
			continue
		}
		if maxRotations > 0 && n >= maxRotations {
			return n, false, errors.Join(errs...) // this tenant first, next tick
		}
		rotated, newest, err := i.rotateIfDue(ctx, t, period, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", t.Name, err))
			i.log.Warn("automatic key rotation failed", "tenant", t.Name, "err", err)
			sc.passFailed = true
		} else {
			sc.newest[t.ID] = seenKeys{newest, sc.pass}
			dueAt(newest.Add(period))
		}
		if rotated {
			n++
		}
		sc.cursor = t.ID
	}
	done := len(page) < rotatePage
	if done {
		sc.cursor = ""
		sc.quietSet = !sc.passFailed && sc.passVersion >= 0
		sc.quietV = sc.passVersion
		sc.quietUntil = sc.passDue
		if sc.passDue.IsZero() { // no tenant has rotation on
			sc.quietUntil = i.now().Add(100 * 365 * 24 * time.Hour)
		}
		for id, seen := range sc.newest {
			if seen.pass < sc.pass-1 { // not seen in this pass nor the last: deleted
				delete(sc.newest, id)
			}
		}
	}
	return n, done, errors.Join(errs...)
}

// rotateIfDue rotates t's keys if period has passed since its newest key
// started signing and no rotation is pending. It returns whether it
// rotated and a lower bound of when the newest key started signing.
func (i *Issuer) rotateIfDue(ctx context.Context, t *actas.Tenant, period time.Duration, now time.Time) (bool, time.Time, error) {
	var newest time.Time
	due := func(keys []*actas.SigningKey, now time.Time) bool {
		var pending bool
		newest, pending = newestSince(keys, t.Settings.SigningAlg, now)
		return !pending && now.Sub(newest) >= period
	}
	created, err := i.rotateKeys(ctx, t, t.Settings.KeyRotationDelay.D(), due)
	if err != nil {
		return false, time.Time{}, err
	}
	if created == nil {
		return false, newest, nil
	}
	i.log.Info("signing keys rotated automatically", "tenant", t.Name, "activate_in", t.Settings.KeyRotationDelay.D())
	return true, now.Add(t.Settings.KeyRotationDelay.D()), nil
}

// RotateDueKeys makes one whole pass over the tenants and rotates the
// keys of every tenant whose key_rotation_period has passed since its
// newest key started signing, unless a rotation is already pending. It
// goes on past a tenant that fails and returns every failure, joined,
// with how many tenants it rotated. The server rotates in the
// background instead (rotateLoop), a bounded amount per tick.
func (i *Issuer) RotateDueKeys(ctx context.Context) (int, error) {
	i.rotation.mu.Lock()
	i.rotation.cursor = ""
	i.rotation.mu.Unlock()
	total := 0
	var errs []error
	for {
		n, done, err := i.rotateStep(ctx, 0)
		total += n
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				return total, errors.Join(errs...)
			}
		}
		if done {
			return total, errors.Join(errs...)
		}
	}
}

// rotateLoop is the automatic rotation: a page of tenants every tick, a
// pass at most once per rotatePassEvery. It runs in a goroutine of its
// own so that it never delays the revocation sync; rotateStep logs what
// fails.
func (i *Issuer) rotateLoop(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	var lastPass time.Time
	inPass := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !inPass {
			if !lastPass.IsZero() && time.Since(lastPass) < rotatePassEvery {
				continue
			}
			if i.rotationQuiet(ctx, i.now()) {
				lastPass = time.Now() // checked again after rotatePassEvery
				continue
			}
			lastPass, inPass = time.Now(), true
		}
		if _, done, _ := i.rotateStep(ctx, rotateMaxPerTick); done {
			inPass = false
		}
	}
}

// RotateResult is what RotateAllKeys did for one tenant.
type RotateResult struct {
	Tenant *actas.Tenant
	Keys   []*actas.SigningKey // the new keys; nil if Err
	Err    error
}

// RotateAllKeys rotates the keys of every tenant (RotateKeys), parallel
// tenants at a time (at least one), going on past a tenant that fails. It
// returns the results by tenant name; the error is for listing tenants
// only, each tenant's failure is in its result.
func (i *Issuer) RotateAllKeys(ctx context.Context, delay time.Duration, parallel int) ([]RotateResult, error) {
	var tenants []*actas.Tenant
	for after := ""; ; {
		page, err := i.store.TenantsAfter(ctx, after, rotatePage)
		if err != nil {
			return nil, wrap("list tenants", err)
		}
		tenants = append(tenants, page...)
		if len(page) < rotatePage {
			break
		}
		after = page[len(page)-1].ID
	}
	slices.SortFunc(tenants, func(a, b *actas.Tenant) int { return strings.Compare(a.Name, b.Name) })
	out := make([]RotateResult, len(tenants))
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(parallel, len(tenants))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				t := tenants[n]
				t.Settings = t.Settings.WithDefaults()
				keys, err := i.rotateKeys(ctx, t, delay, nil)
				out[n] = RotateResult{Tenant: t, Keys: keys, Err: err}
			}
		}()
	}
	for n := range tenants {
		work <- n
	}
	close(work)
	wg.Wait()
	return out, nil
}
