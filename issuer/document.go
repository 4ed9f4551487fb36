package issuer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
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
		func(ks *keySet, now time.Time) ([]byte, error) {
			keys, err := ks.published(now)
			if err != nil {
				return nil, err
			}
			return token.JWKS(keys)
		})
}

// DiscoveryJSON returns the tenant's discovery document (DiscoveryDocument)
// serialised. Nothing of it is kept per tenant: it is the shared template
// of its ID-token algorithms (discoveryTemplate) with the tenant's issuer
// put in, which costs less than a store read and keeps a cached tenant
// about 1.4 KiB smaller.
func (i *Issuer) DiscoveryJSON(ctx context.Context, t *actas.Tenant) (*Document, error) {
	now := i.now()
	ks, err := i.keys.get(ctx, t.ID, now)
	if err != nil {
		return nil, err
	}
	parts, err := discoveryTemplate(discoveryAlgs(ks, now))
	if err != nil {
		return nil, err
	}
	iss, err := json.Marshal(i.Issuer(t))
	if err != nil {
		return nil, err
	}
	iss = iss[1 : len(iss)-1] // the string's JSON, less its quotes
	n := len(parts[0])
	for _, p := range parts[1:] {
		n += len(iss) + len(p)
	}
	body := make([]byte, 0, n)
	body = append(body, parts[0]...)
	for _, p := range parts[1:] {
		body = append(append(body, iss...), p...)
	}
	return newDocument(body, ks, now), nil
}

// discoveryTemplates holds, by ID-token algorithms, the discovery
// document serialised with a placeholder issuer, split around it. The
// algorithms are an ordered subset of three, so it stays small.
var discoveryTemplates struct {
	sync.Mutex
	m map[string][][]byte
}

// issuerPlaceholder is an issuer no tenant has; JSON writes it \u0000.
const issuerPlaceholder = "\x00"

func discoveryTemplate(algs []string) ([][]byte, error) {
	k := strings.Join(algs, " ")
	discoveryTemplates.Lock()
	defer discoveryTemplates.Unlock()
	if p, ok := discoveryTemplates.m[k]; ok {
		return p, nil
	}
	b, err := json.Marshal(discovery(issuerPlaceholder, algs))
	if err != nil {
		return nil, err
	}
	parts := bytes.Split(b, []byte(`\u0000`))
	if discoveryTemplates.m == nil {
		discoveryTemplates.m = make(map[string][][]byte)
	}
	discoveryTemplates.m[k] = parts
	return parts, nil
}
