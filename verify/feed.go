package verify

import (
	"context"
	"math/rand/v2"
	"net/url"
	"strconv"
	"time"
)

// The revocation feed: a long poll (GET <revocation_feed_endpoint>
// ?after=<cursor>&wait=<s>) answered at once when actas revokes something,
// so a revocation reaches this verifier within about a second and the
// request path only looks in a map.

type feedAnswer struct {
	Revocations []struct {
		Seq int64  `json:"seq"`
		ID  string `json:"id"`
		Exp int64  `json:"exp"`
	} `json:"revocations"`
	Cursor int64 `json:"cursor"`
}

// poll makes one feed call and applies its answer.
func (v *Verifier) poll(ctx context.Context, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait+10*time.Second)
	defer cancel()
	u, err := url.Parse(v.feedURL)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("after", strconv.FormatInt(v.cursor.Load(), 10))
	q.Set("wait", strconv.Itoa(int(wait/time.Second)))
	u.RawQuery = q.Encode()
	var a feedAnswer
	if err := v.getJSON(ctx, u.String(), v.cfg.APIKey, maxFeedBytes, &a); err != nil {
		return err
	}
	now := v.cfg.Now().Unix()
	v.revMu.Lock()
	for _, r := range a.Revocations {
		if r.ID == "" || r.Exp+v.skew < now {
			continue // nothing it covers can still be valid
		}
		if cur, ok := v.revoked[r.ID]; !ok || cur < r.Exp {
			v.revoked[r.ID] = r.Exp
		}
	}
	v.revMu.Unlock()
	if a.Cursor > v.cursor.Load() {
		v.cursor.Store(a.Cursor)
	}
	v.lastFeed.Store(int64(time.Since(v.start)))
	return nil
}

// followFeed long-polls until Close, backing off (with jitter, up to a
// second) while the feed fails, and forgetting revocations whose tokens
// have all expired. After a failed call it asks with wait=0: the answer
// then comes at once when the issuer is back, so a verifier that failed
// closed reopens within one round trip of the issuer's return, not a
// long poll later.
func (v *Verifier) followFeed() {
	defer v.wg.Done()
	var backoff time.Duration
	lastPrune := time.Now()
	for v.ctx.Err() == nil {
		wait := v.pollWait
		if backoff > 0 {
			wait = 0 // the last call failed
		}
		if err := v.poll(v.ctx, wait); err != nil {
			if v.ctx.Err() != nil {
				return
			}
			v.feedErrors.Add(1)
			backoff = min(max(2*backoff, 50*time.Millisecond), maxBackoff)
			d := backoff/2 + rand.N(backoff/2+1)
			select {
			case <-v.ctx.Done():
				return
			case <-time.After(d):
			}
			continue
		}
		backoff = 0
		if time.Since(lastPrune) > time.Minute {
			v.prune()
			lastPrune = time.Now()
		}
	}
}

func (v *Verifier) prune() {
	now := v.cfg.Now().Unix()
	v.revMu.Lock()
	for id, exp := range v.revoked {
		if exp+v.skew < now {
			delete(v.revoked, id)
		}
	}
	v.revMu.Unlock()
}

func (v *Verifier) isRevoked(id string) bool {
	v.revMu.RLock()
	_, ok := v.revoked[id]
	v.revMu.RUnlock()
	return ok
}

// feedAge is how long ago the feed last answered.
func (v *Verifier) feedAge() time.Duration {
	return time.Since(v.start) - time.Duration(v.lastFeed.Load())
}

func (v *Verifier) stale() bool { return v.feedAge() > v.cfg.FeedMaxStale }

// Stats is a snapshot of a Verifier's state, for metrics and health
// checks.
type Stats struct {
	Cursor     int64         // last revocation sequence number applied
	LastSync   time.Time     // when the feed last answered
	FeedLag    time.Duration // how long ago that was
	FeedErrors uint64        // failed feed calls so far
	Revoked    int           // ids (jti or origin_jti) held as revoked
	Keys       int           // signing keys known
	KeyFetches uint64        // JWKS fetches so far
	// Stale: the feed has not answered for longer than FeedMaxStale.
	Stale bool
	// FailClosed: Stale and not FailOpen, so every verification fails
	// with ErrUnavailable. FailOpen: Stale and FailOpen, so tokens are
	// accepted on the revocations known so far.
	FailClosed, FailOpen bool
}

// Stats returns a snapshot of the verifier's state.
func (v *Verifier) Stats() Stats {
	age := v.feedAge()
	v.revMu.RLock()
	n := len(v.revoked)
	v.revMu.RUnlock()
	stale := age > v.cfg.FeedMaxStale
	return Stats{
		Cursor:     v.cursor.Load(),
		LastSync:   time.Now().Add(-age),
		FeedLag:    age,
		FeedErrors: v.feedErrors.Load(),
		Revoked:    n,
		Keys:       len(*v.keys.Load()),
		KeyFetches: v.keysFetch.Load(),
		Stale:      stale,
		FailClosed: stale && !v.cfg.FailOpen,
		FailOpen:   stale && v.cfg.FailOpen,
	}
}
