package issuer

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// Document is a public per-tenant document (JWKS, discovery) serialised
// once and served from the tenant cache until the tenant's keys change
// or the set of published keys does (a retired key leaving JWKS). ETag
// is a strong validator of Body (RFC 9110 §8.8.3).
type Document struct {
	Body []byte
	ETag string

	keys  *keySet   // the key set it was made from
	until time.Time // when it goes stale by itself; zero: never
}

func (d *Document) fresh(ks *keySet, now time.Time) bool {
	return d != nil && d.keys == ks && (d.until.IsZero() || now.Before(d.until))
}

func newDocument(body []byte, ks *keySet, now time.Time) *Document {
	sum := sha256.Sum256(body)
	return &Document{Body: body, ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`,
		keys: ks, until: ks.publishedUntil(now)}
}

// document returns the cached document pick selects for tenant t, or
// makes it with build and caches it.
func (i *Issuer) document(ctx context.Context, t *actas.Tenant, pick func(*tenantState) **Document,
	build func(ks *keySet, now time.Time) ([]byte, error)) (*Document, error) {
	now := i.now()
	v := i.cache.version()
	ks, err := i.keys.get(ctx, t.ID, now)
	if err != nil {
		return nil, err
	}
	var d *Document
	i.cache.with(t.ID, func(st *tenantState) { d = *pick(st) })
	if d.fresh(ks, now) {
		return d, nil
	}
	body, err := build(ks, now)
	if err != nil {
		return nil, err
	}
	d = newDocument(body, ks, now)
	i.cache.put(t.ID, v, func(st *tenantState) {
		if st.keys == ks {
			*pick(st) = d
		}
	})
	return d, nil
}

// JWKSDocument returns the tenant's JSON Web Key Set: public keys only.
func (i *Issuer) JWKSDocument(ctx context.Context, t *actas.Tenant) (*Document, error) {
	return i.document(ctx, t, func(st *tenantState) **Document { return &st.jwks },
		func(ks *keySet, now time.Time) ([]byte, error) { return token.JWKS(ks.published(now)) })
}

// DiscoveryJSON returns the tenant's discovery document (DiscoveryDocument)
// serialised.
func (i *Issuer) DiscoveryJSON(ctx context.Context, t *actas.Tenant) (*Document, error) {
	return i.document(ctx, t, func(st *tenantState) **Document { return &st.disco },
		func(ks *keySet, now time.Time) ([]byte, error) {
			d, err := i.DiscoveryDocument(ctx, t)
			if err != nil {
				return nil, err
			}
			return json.Marshal(d)
		})
}
