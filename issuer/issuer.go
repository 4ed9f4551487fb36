package issuer

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/password"
	"github.com/actas-dev/actas/revocation"
	"github.com/actas-dev/actas/token"
)

// Config holds what an Issuer needs. Store, Sealer and Hasher are
// required.
type Config struct {
	Store     actas.Store
	Sealer    *token.Sealer
	Hasher    *password.Hasher
	PublicURL string           // issuers are PublicURL + "/" + userPoolId
	Now       func() time.Time // defaults to time.Now
	Logger    *slog.Logger     // defaults to slog.Default()
	Throttle  *ThrottlePolicy  // defaults to DefaultThrottle
	// TenantCache is how many tenants' configuration (tenant, API keys,
	// public signing keys, JWKS and discovery) is kept in memory, and
	// SigningKeyCache how many unsealed private keys; 0 means
	// DefaultTenantCache and DefaultSigningKeyCache (tenantcache.go).
	TenantCache     int
	SigningKeyCache int
}

// Issuer applies the rules of actas to one store. It is safe for
// concurrent use.
type Issuer struct {
	store     actas.Store
	sealer    *token.Sealer
	hasher    *password.Hasher
	publicURL string
	now       func() time.Time
	log       *slog.Logger

	keys     *keyring
	revoked  *revocation.Set
	seen     *seenTokens // tokens whose signature was made or checked here
	throttle *throttle

	cache    *tenantCache // tenants, API keys and public signing keys (tenantcache.go)
	rotation rotationScan // the automatic key rotation's progress (keyrotation.go)
	cors     *corsOrigins // allowed web origins per tenant (corsorigins.go)
}

// apiKeyTouchGap: "last used" is recorded at most this often per key, so
// that authentication costs no write on the hot path.
const apiKeyTouchGap = time.Minute

// New returns an Issuer. Call Start to load the revocation state before
// serving.
func New(c Config) *Issuer {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Throttle == nil {
		c.Throttle = &DefaultThrottle
	}
	i := &Issuer{
		store:     c.Store,
		sealer:    c.Sealer,
		hasher:    c.Hasher,
		publicURL: strings.TrimRight(c.PublicURL, "/"),
		now:       c.Now,
		log:       c.Logger,
		revoked:   revocation.New(c.Store, c.Now),
		seen:      newSeenTokens(seenCapacity),
		throttle:  newThrottle(*c.Throttle),
		cache:     newTenantCache(c.Store, c.TenantCache),
		cors:      newCORSOrigins(),
	}
	i.keys = newKeyring(c.Store, c.Sealer, i.cache, c.SigningKeyCache)
	return i
}

// Store returns the issuer's store.
func (i *Issuer) Store() actas.Store { return i.store }

// Now returns the issuer's current time.
func (i *Issuer) Now() time.Time { return i.now() }

// Revocations returns the in-memory revocation set.
func (i *Issuer) Revocations() *revocation.Set { return i.revoked }

// RevocationFeed returns the revocations of c's tenant with a sequence
// number above after, waiting up to wait for one (revocation.Set.Feed).
func (i *Issuer) RevocationFeed(ctx context.Context, c *Client, after int64, wait time.Duration) (*revocation.Feed, error) {
	return i.revoked.Feed(ctx, c.Tenant.ID, after, wait)
}

// Hasher returns the password hasher.
func (i *Issuer) Hasher() *password.Hasher { return i.hasher }

// Cached returns how many tenants' states and unsealed private keys the
// issuer's caches hold now (at most Config.TenantCache and
// Config.SigningKeyCache).
func (i *Issuer) Cached() (tenants, signingKeys int) { return i.cache.len(), i.keys.len() }

// Start loads the revocation state from the store. From then on, a
// revocation made by this issuer is followed by a Sync at once, which
// brings it to revocation feed waiters (revocation.Set.Start).
func (i *Issuer) Start(ctx context.Context) error {
	return i.revoked.Start(ctx, func(err error) { i.log.Warn("revocation sync failed", "err", err) })
}

// Maintain runs the background work until ctx ends: following
// revocations made elsewhere every syncEvery, purging expired sessions
// and revocations every purgeEvery, and rotating due signing keys
// (keyrotation.go).
func (i *Issuer) Maintain(ctx context.Context, syncEvery, purgeEvery time.Duration) {
	syncT := time.NewTicker(syncEvery)
	defer syncT.Stop()
	purgeT := time.NewTicker(purgeEvery)
	defer purgeT.Stop()
	// Key rotation has a goroutine of its own: generating keys takes a
	// while, and must never hold up the revocation sync.
	go i.rotateLoop(ctx, rotateTick)
	// A store that can say when revocations were committed elsewhere
	// (PostgreSQL's LISTEN/NOTIFY) wakes the sync at once; the ticker
	// still bounds the delay when a notification is lost. nil never
	// receives.
	var changed <-chan struct{}
	if n, ok := i.store.(actas.RevocationNotifier); ok {
		changed = n.RevocationsChanged()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			if err := i.revoked.Sync(ctx); err != nil && ctx.Err() == nil {
				i.log.Warn("revocation sync failed", "err", err)
			}
		case <-syncT.C:
			if err := i.revoked.Sync(ctx); err != nil && ctx.Err() == nil {
				i.log.Warn("revocation sync failed", "err", err)
			}
		case <-purgeT.C:
			now := i.now()
			n, m, err := i.store.PurgeExpired(ctx, now.Add(-revocation.Slack))
			if err != nil {
				if ctx.Err() == nil {
					i.log.Warn("purge failed", "err", err)
				}
				continue
			}
			if ts, ok := i.store.(actas.ThrottleStore); ok { // counts past the window count for nothing
				if _, err := ts.PurgeThrottle(ctx, now.Add(-i.throttle.p.Window)); err != nil && ctx.Err() == nil {
					i.log.Warn("purge of sign-in failure counts failed", "err", err)
				}
			}
			pruned := i.revoked.Prune(now)
			if n+m+pruned > 0 {
				i.log.Info("purged expired state", "sessions", n, "revocations", m, "revocations_in_memory", pruned)
			}
		}
	}
}

// Issuer returns the issuer URL of a tenant.
func (i *Issuer) Issuer(t *actas.Tenant) string { return i.publicURL + "/" + t.UserPoolID }

// Client is an authenticated caller of the API: the tenant its API key
// belongs to, and which key it used.
type Client struct {
	Tenant   *actas.Tenant
	APIKeyID string
}

var errForbidden = actas.Errorf(actas.EFORBIDDEN, "Forbidden")

// API keys look like "actas_" + 16-character id + 32-character secret, all
// lowercase alphanumerics; only the SHA-256 of the whole string is stored.
const (
	apiKeyPrefix    = "actas_"
	apiKeyIDLen     = 16
	apiKeySecretLen = 32
	apiKeyLen       = len(apiKeyPrefix) + apiKeyIDLen + apiKeySecretLen
)

func newAPIKeyString() (id, key string) {
	id = actas.RandomLower(apiKeyIDLen)
	return id, apiKeyPrefix + id + actas.RandomLower(apiKeySecretLen)
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Authenticate resolves an X-API-Key value to its tenant. A missing,
// malformed, unknown or revoked key is 403 Forbidden, all alike.
func (i *Issuer) Authenticate(ctx context.Context, apiKey string) (*Client, error) {
	if len(apiKey) != apiKeyLen || !strings.HasPrefix(apiKey, apiKeyPrefix) {
		return nil, errForbidden
	}
	id := apiKey[len(apiKeyPrefix) : len(apiKeyPrefix)+apiKeyIDLen]
	now := i.now()
	if err := i.cache.sync(ctx); err != nil {
		return nil, err
	}
	k, err := i.cache.apiKey(ctx, id)
	if err != nil {
		if errors.Is(err, actas.ErrNotFound) {
			return nil, errForbidden
		}
		return nil, err
	}
	if subtle.ConstantTimeCompare(hashSecret(apiKey), k.Hash) != 1 || k.Revoked() {
		return nil, errForbidden
	}
	t, err := i.cache.tenant(ctx, k.TenantID)
	if err != nil {
		if errors.Is(err, actas.ErrNotFound) {
			return nil, errForbidden
		}
		return nil, err
	}
	i.touchAPIKey(ctx, id, now)
	return &Client{Tenant: t, APIKeyID: id}, nil
}

// touchAPIKey records last use at most once per apiKeyTouchGap per key, so
// that authentication costs no write on the hot path.
func (i *Issuer) touchAPIKey(ctx context.Context, id string, now time.Time) {
	if !i.cache.touchDue(id, now) {
		return
	}
	if err := i.store.TouchAPIKey(ctx, id, now); err != nil {
		i.log.Warn("record API key use failed", "api_key_id", id, "err", err)
	}
}

// TenantByPoolID returns the tenant with this userPoolId.
func (i *Issuer) TenantByPoolID(ctx context.Context, poolID string) (*actas.Tenant, error) {
	if !actas.ValidUserPoolID(poolID) {
		return nil, actas.ErrNotFound
	}
	if err := i.cache.sync(ctx); err != nil {
		return nil, err
	}
	return i.cache.tenantByPool(ctx, poolID, i.now())
}

// checkToken parses and verifies a JWT of the given use for tenant t.
// With allowExpired, an expired token is accepted (refresh and expire
// take the previous response back); with allowRevoked, a revoked one is
// (expire is idempotent). Any failure is errBadToken: the client learns
// nothing about which check failed.
func (i *Issuer) checkToken(ctx context.Context, t *actas.Tenant, raw, use string, now time.Time, allowExpired, allowRevoked bool) (*token.Claims, error) {
	ks, err := i.keys.get(ctx, t.ID, now)
	if err != nil {
		return nil, err
	}
	unpublished := false // trusted only for a token that has expired
	// trust finds key kid, reloading the set once if it is unknown: only
	// keys of use published at now are trusted, so a key withdrawn as
	// compromised is refused at once, whatever its tokens say.
	trust := func(kid string) (*publicKey, bool) {
		set := ks
		k := set.find(kid)
		if k == nil {
			if set, _ = i.keys.reloadFor(ctx, t.ID, kid, now); set != nil {
				k = set.find(kid)
			}
		}
		if k == nil || k.meta.Use != use || !set.trusted(kid, now, allowExpired) {
			return nil, false
		}
		unpublished = !set.trusted(kid, now, false)
		return k, true
	}
	lookup := func(kid string) (*token.Key, bool) {
		k, ok := trust(kid)
		if !ok {
			return nil, false
		}
		p, err := k.public(true)
		return p, err == nil
	}
	var c *token.Claims
	digest := tokenDigest(raw)
	if e, hit := i.seen.get(digest, t.ID); hit {
		// Signed by a key of this tenant: only the key's trust, which
		// can change, is checked again.
		if _, ok := trust(e.kid); !ok || e.claims.TokenUse != use {
			return nil, errBadToken(use)
		}
		c = copyClaims(e.claims)
	} else {
		parsed, key, err := token.Parse(raw, lookup)
		if err != nil {
			return nil, errBadToken(use)
		}
		i.seen.put(digest, t.ID, key.KID, copyClaims(parsed))
		c = parsed
	}
	want, err := i.expectedClient(ctx, t, c)
	if err != nil {
		return nil, err
	}
	err = c.Validate(token.Expect{
		Issuer:       i.Issuer(t),
		ClientID:     want,
		TokenUse:     use,
		Now:          now,
		Skew:         time.Minute,
		AllowExpired: allowExpired,
	})
	if err != nil {
		return nil, errBadToken(use)
	}
	// A key out of JWKS signed only tokens that have expired: a live one
	// is a forgery.
	if unpublished && c.Exp > now.Unix() {
		return nil, errBadToken(use)
	}
	if !allowRevoked && (i.revoked.Revoked(c.OriginJti) || i.revoked.Revoked(c.Jti)) {
		return nil, errBadToken(use)
	}
	return c, nil
}

func errBadToken(use string) error {
	if use == actas.KeyUseID {
		return actas.Errorf(actas.EUNAUTHORIZED, "Invalid or expired Authorization token")
	}
	return actas.Errorf(actas.EUNAUTHORIZED, "Invalid or expired AccessToken")
}

// VerifyAccessToken checks an access token of tenant t as a resource
// server would: signature, claims, expiry and revocation.
func (i *Issuer) VerifyAccessToken(ctx context.Context, t *actas.Tenant, raw string) (*token.Claims, error) {
	return i.checkToken(ctx, t, raw, actas.KeyUseAccess, i.now(), false, false)
}

// VerifyIDToken checks an ID token of tenant t.
func (i *Issuer) VerifyIDToken(ctx context.Context, t *actas.Tenant, raw string) (*token.Claims, error) {
	return i.checkToken(ctx, t, raw, actas.KeyUseID, i.now(), false, false)
}

// JWKS returns the JSON Web Key Set of a tenant at now.
func (i *Issuer) JWKS(ctx context.Context, t *actas.Tenant) ([]byte, error) {
	d, err := i.JWKSDocument(ctx, t)
	if err != nil {
		return nil, err
	}
	return d.Body, nil
}

// Discovery is the OpenID Provider Metadata of a tenant (OpenID Connect
// Discovery 1.0 §3).
type Discovery struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	ResponseTypesSupported           []string `json:"response_types_supported"`
	SubjectTypesSupported            []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                  []string `json:"claims_supported"`
	TokenEndpoint                    string   `json:"token_endpoint,omitempty"`
	GrantTypesSupported              []string `json:"grant_types_supported,omitempty"`
	RevocationEndpoint               string   `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint            string   `json:"introspection_endpoint,omitempty"`
	// RevocationFeedEndpoint is actas's own (not OpenID or IETF): the long
	// poll that package verify follows (GET, X-API-Key; see package revocation).
	RevocationFeedEndpoint string `json:"revocation_feed_endpoint,omitempty"`
	// Browser sign-in (SPEC §9).
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	AuthorizationResponseISSSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// DiscoveryDocument returns the discovery document of tenant t.
func (i *Issuer) DiscoveryDocument(ctx context.Context, t *actas.Tenant) (*Discovery, error) {
	ks, err := i.keys.get(ctx, t.ID, i.now())
	if err != nil {
		return nil, err
	}
	return discovery(i.Issuer(t), discoveryAlgs(ks, i.now())), nil
}

// discoveryAlgs returns the algorithms of the ID-token keys published at
// now, in key order.
func discoveryAlgs(ks *keySet, now time.Time) []string {
	var algs []string
	for i := range ks.keys {
		k := ks.keys[i].meta
		if ks.keys[i].publishedAt(now) && k.Use == actas.KeyUseID && !contains(algs, k.Alg) {
			algs = append(algs, k.Alg)
		}
	}
	return algs
}

// discovery is the discovery document of issuer iss whose ID tokens are
// signed with algs.
func discovery(iss string, algs []string) *Discovery {
	return &Discovery{
		Issuer:                           iss,
		JWKSURI:                          iss + "/.well-known/jwks.json",
		ResponseTypesSupported:           []string{"code"},
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: algs,
		TokenEndpoint:                    iss + "/oauth2/token",
		RevocationEndpoint:               iss + "/oauth2/revoke",
		IntrospectionEndpoint:            iss + "/oauth2/introspect",
		RevocationFeedEndpoint:           iss + "/revocations",
		GrantTypesSupported:              []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:token-exchange"},
		ClaimsSupported: []string{"sub", "aud", "iss", "exp", "iat", "auth_time", "jti", "origin_jti",
			"event_id", "token_use", "email", "email_verified", "cognito:username", "cognito:groups", "act",
			"nonce", "sid", "username", "given_name", "family_name", "nickname"},
		AuthorizationEndpoint:             iss + "/oauth2/authorize",
		UserinfoEndpoint:                  iss + "/oauth2/userinfo",
		EndSessionEndpoint:                iss + "/oauth2/logout",
		CodeChallengeMethodsSupported:     []string{"S256"},
		ScopesSupported:                   knownScopes,
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "none"},
		ResponseModesSupported:            []string{"query"},
		AuthorizationResponseISSSupported: true,
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *actas.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
