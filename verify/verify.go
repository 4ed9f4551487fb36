package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actas-dev/actas/jose"
)

// Errors of verification. Each error returned by VerifyID, VerifyAccess
// and Verify wraps exactly one of them; test with errors.Is. None of them
// echoes token content beyond a kid or alg that passed validation.
var (
	ErrMalformed     = errors.New("verify: malformed token")
	ErrAlgorithm     = errors.New("verify: algorithm not allowed")
	ErrUnknownKey    = errors.New("verify: unknown signing key")
	ErrSignature     = errors.New("verify: invalid signature")
	ErrInvalidClaims = errors.New("verify: invalid claims")
	ErrExpired       = errors.New("verify: token expired")
	ErrRevoked       = errors.New("verify: token revoked")
	// ErrUnavailable: the revocation feed has not answered for longer
	// than Config.FeedMaxStale and FailOpen is off, so no token can be
	// known not to be revoked. Answer 503, not 401.
	ErrUnavailable = errors.New("verify: revocation status unavailable")
)

// joseErrors gives jose.Verify's and jose.Claims.Validate's errors this package's sentinels.
var joseErrors = jose.Sentinels{
	Malformed:  ErrMalformed,
	UnknownKey: ErrUnknownKey,
	Algorithm:  ErrAlgorithm,
	Signature:  ErrSignature,

	InvalidClaims: ErrInvalidClaims,
	Expired:       ErrExpired,
}

// MaxSkew is the largest clock skew allowed on exp, nbf and iat.
const MaxSkew = jose.MaxSkew

// Defaults of Config.
const (
	DefaultFeedMaxStale    = 10 * time.Second
	DefaultKeyRefetchEvery = 5 * time.Second
	DefaultKeyRefreshEvery = 5 * time.Minute
	minFeedMaxStale        = 2 * time.Second
	maxPollWait            = 25 * time.Second
	maxBackoff             = time.Second
	maxDocBytes            = 1 << 20
	maxFeedBytes           = 8 << 20
)

// Config configures a Verifier. Issuer, ClientID and APIKey are required.
type Config struct {
	// Issuer is the tenant's issuer URL, <actas public URL>/<userPoolId>.
	// It must equal the "iss" of its discovery document and tokens.
	Issuer string
	// ClientID is the tenant's clientId: the aud of ID tokens and the
	// client_id of access tokens.
	ClientID string
	// APIKey is a tenant API key, sent as X-API-Key to the revocation
	// feed. Create one for the resource server (actas apikey create).
	APIKey string
	// HTTPClient fetches discovery, keys and the feed. Default: a client
	// with the default transport. Its Timeout, if set, must exceed the
	// feed's long-poll wait (FeedMaxStale/2, at most 25 s).
	HTTPClient *http.Client
	// FeedMaxStale is how long the verifier keeps trusting its revocation
	// set after the feed last answered. Past it, verification fails with
	// ErrUnavailable (fail closed) unless FailOpen. Default 10 s, at
	// least 2 s.
	FeedMaxStale time.Duration
	// FailOpen accepts otherwise valid tokens while the feed is stale,
	// checking them only against the revocations already known. It trades
	// revocation for availability: leave it off unless an outage of
	// actas must not stop your API.
	FailOpen bool
	// Skew is the clock skew allowed on exp, nbf and iat; default and
	// maximum 60 s.
	Skew time.Duration
	// KeyRefetchEvery bounds how often a token with an unknown kid makes
	// the verifier fetch the JWKS again (default 5 s), so forged kids
	// cannot make it hammer the issuer.
	KeyRefetchEvery time.Duration
	// KeyRefreshEvery is how often the JWKS is fetched in the background
	// (default 5 min), so a key published ahead of use is known before it
	// signs.
	KeyRefreshEvery time.Duration
	// Now is the clock for token times (exp, nbf, iat). Default time.Now.
	// The feed's staleness always uses the real monotonic clock.
	Now func() time.Time
}

// Verifier verifies the ID and access tokens of one actas tenant and
// follows its revocation feed. It is safe for concurrent use; the request
// path makes no network call except, at most once per KeyRefetchEvery, a
// JWKS fetch for a token naming an unknown kid.
type Verifier struct {
	cfg      Config
	client   *http.Client
	jwksURL  string
	feedURL  string
	pollWait time.Duration
	skew     int64 // seconds

	keys      atomic.Pointer[map[string]*key]
	keysMu    sync.Mutex // one JWKS fetch at a time
	keysAt    atomic.Int64
	keysFetch atomic.Uint64

	revMu   sync.RWMutex
	revoked map[string]int64 // jti or origin_jti -> exp, Unix seconds
	cursor  atomic.Int64

	start      time.Time     // monotonic origin of lastFeed
	lastFeed   atomic.Int64  // nanoseconds since start of the last feed answer
	feedErrors atomic.Uint64 // failed feed calls

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New fetches the issuer's discovery document and keys and the tenant's
// revocations so far, then follows the revocation feed in the background
// until Close. ctx bounds these first fetches only.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("verify: Config.Issuer is required")
	case cfg.ClientID == "":
		return nil, errors.New("verify: Config.ClientID is required")
	case cfg.APIKey == "":
		return nil, errors.New("verify: Config.APIKey is required (it reads the revocation feed)")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.FeedMaxStale == 0 {
		cfg.FeedMaxStale = DefaultFeedMaxStale
	}
	cfg.FeedMaxStale = max(cfg.FeedMaxStale, minFeedMaxStale)
	if cfg.Skew == 0 || cfg.Skew > MaxSkew {
		cfg.Skew = MaxSkew
	}
	cfg.Skew = max(cfg.Skew, 0)
	if cfg.KeyRefetchEvery <= 0 {
		cfg.KeyRefetchEvery = DefaultKeyRefetchEvery
	}
	if cfg.KeyRefreshEvery <= 0 {
		cfg.KeyRefreshEvery = DefaultKeyRefreshEvery
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{
		cfg:      cfg,
		client:   cfg.HTTPClient,
		pollWait: min((cfg.FeedMaxStale / 2).Truncate(time.Second), maxPollWait),
		skew:     int64(cfg.Skew / time.Second),
		revoked:  make(map[string]int64),
		start:    time.Now(),
	}
	v.pollWait = max(v.pollWait, time.Second)

	var d struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
		FeedURI string `json:"revocation_feed_endpoint"`
	}
	if err := v.getJSON(ctx, strings.TrimRight(cfg.Issuer, "/")+"/.well-known/openid-configuration", "", maxDocBytes, &d); err != nil {
		return nil, fmt.Errorf("verify: discovery: %w", err)
	}
	switch {
	case d.Issuer != cfg.Issuer:
		// OpenID Connect Discovery 1.0 §4.3.
		return nil, fmt.Errorf("verify: discovery names issuer %q, want %q", truncate(d.Issuer, 200), cfg.Issuer)
	case d.JWKSURI == "":
		return nil, errors.New("verify: discovery has no jwks_uri")
	case d.FeedURI == "":
		return nil, errors.New("verify: discovery has no revocation_feed_endpoint (is the issuer actas?)")
	}
	v.jwksURL, v.feedURL = d.JWKSURI, d.FeedURI
	if err := v.fetchKeys(ctx); err != nil {
		return nil, err
	}
	// Catch up with every revocation still in force before serving.
	for {
		before := v.cursor.Load()
		if err := v.poll(ctx, 0); err != nil {
			return nil, fmt.Errorf("verify: revocation feed: %w", err)
		}
		if v.cursor.Load() == before {
			break
		}
	}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	v.wg.Add(2)
	go v.followFeed()
	go v.refreshKeys()
	return v, nil
}

// Close stops the background work and waits for it to end.
func (v *Verifier) Close() error {
	v.cancel()
	v.wg.Wait()
	return nil
}

// VerifyID verifies an ID token: signature with the issuer's key for its
// kid and the key's own algorithm, iss, token_use "id", aud = ClientID,
// exp/nbf/iat within the skew, jti and origin_jti present and not revoked.
func (v *Verifier) VerifyID(raw string) (*Claims, error) { return v.verify(raw, "id") }

// VerifyAccess verifies an access token as VerifyID does an ID token,
// with token_use "access" and client_id = ClientID.
func (v *Verifier) VerifyAccess(raw string) (*Claims, error) { return v.verify(raw, "access") }

// Verify verifies an ID or an access token, whichever it is; check
// Claims.TokenUse if it matters.
func (v *Verifier) Verify(raw string) (*Claims, error) { return v.verify(raw, "") }

func (v *Verifier) verify(raw, use string) (*Claims, error) {
	payload, err := jose.Verify(raw, func(kid string) (jose.Key, bool) {
		k := v.key(kid)
		if k == nil {
			return jose.Key{}, false
		}
		return k.jose, true
	})
	if err != nil {
		return nil, joseErrors.Wrap(err)
	}
	jc, err := jose.DecodeClaims(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	c := (*Claims)(jc)
	if use == "" {
		use = c.TokenUse
	}
	if err := v.validate(c, use); err != nil {
		return nil, err
	}
	if v.stale() && !v.cfg.FailOpen {
		return nil, ErrUnavailable
	}
	if v.isRevoked(c.Jti) || v.isRevoked(c.OriginJti) {
		return nil, ErrRevoked
	}
	return c, nil
}

// validate checks the claims (SPEC §4; RFC 7519 §4.1) as jose.Claims.Validate
// does. Times are whole seconds: expired from exp + skew on; not yet valid
// while nbf or iat is more than skew ahead.
func (v *Verifier) validate(c *Claims, use string) error {
	return joseErrors.Wrap((*jose.Claims)(c).Validate(jose.Expect{
		Issuer:   v.cfg.Issuer,
		ClientID: v.cfg.ClientID,
		TokenUse: use,
		Now:      v.cfg.Now(),
		Skew:     v.cfg.Skew,
	}))
}

// key returns the key for kid, fetching the JWKS again if kid is unknown
// and the last fetch is older than KeyRefetchEvery.
func (v *Verifier) key(kid string) *key {
	if k := (*v.keys.Load())[kid]; k != nil {
		return k
	}
	if time.Since(v.start)-time.Duration(v.keysAt.Load()) < v.cfg.KeyRefetchEvery {
		return nil
	}
	v.keysMu.Lock()
	defer v.keysMu.Unlock()
	// Another caller may have fetched while we waited for the lock.
	if k := (*v.keys.Load())[kid]; k != nil {
		return k
	}
	if time.Since(v.start)-time.Duration(v.keysAt.Load()) < v.cfg.KeyRefetchEvery {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = v.fetchKeysLocked(ctx)
	return (*v.keys.Load())[kid]
}

func (v *Verifier) fetchKeys(ctx context.Context) error {
	v.keysMu.Lock()
	defer v.keysMu.Unlock()
	return v.fetchKeysLocked(ctx)
}

// fetchKeysLocked replaces the key set. A failed fetch keeps the old set
// (and still counts for the refetch rate limit).
func (v *Verifier) fetchKeysLocked(ctx context.Context) error {
	v.keysAt.Store(int64(time.Since(v.start)))
	v.keysFetch.Add(1)
	var raw json.RawMessage
	if err := v.getJSON(ctx, v.jwksURL, "", maxDocBytes, &raw); err != nil {
		return fmt.Errorf("verify: jwks: %w", err)
	}
	ks, err := parseJWKS(raw)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	v.keys.Store(&ks)
	return nil
}

func (v *Verifier) refreshKeys() {
	defer v.wg.Done()
	t := time.NewTicker(v.cfg.KeyRefreshEvery)
	defer t.Stop()
	for {
		select {
		case <-v.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(v.ctx, 10*time.Second)
			_ = v.fetchKeys(ctx)
			cancel()
		}
	}
}

// getJSON GETs url and decodes a 200 JSON answer of at most limit bytes.
func (v *Verifier) getJSON(ctx context.Context, url, apiKey string, limit int64, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if apiKey != "" {
		req.Header.Set("X-API-Key", apiKey)
	}
	res, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", req.URL.Redacted(), res.StatusCode)
	}
	if int64(len(body)) > limit {
		return fmt.Errorf("%s: answer longer than %d bytes", req.URL.Redacted(), limit)
	}
	return json.Unmarshal(body, out)
}
