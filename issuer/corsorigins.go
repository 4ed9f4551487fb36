package issuer

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/actas-dev/actas"
)

// The web origins a tenant's OAuth endpoints answer cross-origin requests
// from (CORS), as Keycloak's "Web origins: +" does: the origins
// (scheme://host[:port]) of the redirect URIs registered for the tenant's
// OAuth clients. A loopback redirect URI registered without a port admits
// its host on any port, the rule redirect URIs follow (loopbackAnyPort).
//
// The set is cached per tenant for CORSOriginsTTL. Creating or deleting a
// client through this Issuer drops its tenant's entry at once; another
// process (another replica, or the CLI writing to the database) is seen
// when the entry expires, so a deleted client's origin is refused at most
// CORSOriginsTTL later everywhere.

// CORSOriginsTTL is how long a tenant's allowed origins are cached.
const CORSOriginsTTL = 5 * time.Second

// Bounds: tenants whose origins are cached, and the length of an Origin
// worth looking up (a longer one matches nothing registered).
const (
	maxCORSTenants   = 10_000
	maxCORSOriginLen = maxRedirectURILen
)

type corsOrigins struct {
	mu       sync.Mutex
	gen      uint64 // moves on every invalidation: a load that saw an older one is not stored
	byTenant map[string]*corsEntry
}

// corsEntry is the allowed origins of one tenant.
type corsEntry struct {
	exact   map[string]struct{}
	anyPort []string // registered origins without a port, for loopbackAnyPort
	loaded  time.Time
}

func newCORSOrigins() *corsOrigins {
	return &corsOrigins{byTenant: make(map[string]*corsEntry)}
}

// invalidate drops a tenant's cached origins.
func (c *corsOrigins) invalidate(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.byTenant, tenantID)
}

// get returns the tenant's cached entry if it is fresh at now, and the
// generation a load started now must see unchanged to store its result.
func (c *corsOrigins) get(tenantID string, now time.Time) (*corsEntry, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byTenant[tenantID]
	if e != nil && (now.Before(e.loaded) || now.Sub(e.loaded) >= CORSOriginsTTL) {
		delete(c.byTenant, tenantID)
		e = nil
	}
	return e, c.gen
}

func (c *corsOrigins) put(tenantID string, e *corsEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // a client changed while this was loading
	}
	if len(c.byTenant) >= maxCORSTenants {
		for id, old := range c.byTenant { // drop the expired, else any one
			if e.loaded.Sub(old.loaded) >= CORSOriginsTTL {
				delete(c.byTenant, id)
			}
		}
		for id := range c.byTenant {
			if len(c.byTenant) < maxCORSTenants {
				break
			}
			delete(c.byTenant, id)
		}
	}
	c.byTenant[tenantID] = e
}

func (e *corsEntry) allows(origin string) bool {
	if _, ok := e.exact[origin]; ok {
		return true
	}
	for _, reg := range e.anyPort {
		if loopbackAnyPort(reg, origin) {
			return true
		}
	}
	return false
}

// CORSOriginAllowed reports whether origin, the Origin header of a
// request to an OAuth endpoint of the tenant with this user pool id, is
// the origin of a redirect URI of one of its clients. An unknown pool
// allows nothing.
func (i *Issuer) CORSOriginAllowed(ctx context.Context, poolID, origin string) (bool, error) {
	if origin == "" || len(origin) > maxCORSOriginLen {
		return false, nil
	}
	t, err := i.TenantByPoolID(ctx, poolID)
	if errors.Is(err, actas.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	now := i.now()
	e, gen := i.cors.get(t.ID, now)
	if e == nil {
		cs, err := i.store.OAuthClients(ctx, t.ID)
		if err != nil {
			return false, wrap("list clients", err)
		}
		e = corsEntryOf(cs, now)
		i.cors.put(t.ID, e, gen)
	}
	return e.allows(origin), nil
}

// corsEntryOf collects the origins of the clients' redirect URIs.
func corsEntryOf(cs []*actas.OAuthClient, now time.Time) *corsEntry {
	e := &corsEntry{exact: make(map[string]struct{}), loaded: now}
	for _, c := range cs {
		for _, u := range c.RedirectURIs {
			o, port, ok := webOrigin(u)
			if !ok {
				continue
			}
			if _, dup := e.exact[o]; dup {
				continue
			}
			e.exact[o] = struct{}{}
			if !port {
				e.anyPort = append(e.anyPort, o)
			}
		}
	}
	return e
}

// webOrigin returns the origin of a registered redirect URI as a browser
// serializes it in an Origin header (RFC 6454 §6.2): lower-case scheme
// and host, the port only if it is not the scheme's default; and whether
// the URI names a port.
func webOrigin(s string) (origin string, hasPort, ok bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", false, false
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 literal
	}
	if port != "" && !(scheme == "https" && port == "443" || scheme == "http" && port == "80") {
		host += ":" + port
	}
	return scheme + "://" + host, port != "", true
}
