package issuer

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/actas-dev/actas"
)

// OAuth clients of a tenant (SPEC §9): registration, and the two checks
// every flow makes of them, client authentication and redirect URI
// matching.

// Bounds on client registrations.
const (
	maxClientNameLen  = 128
	maxRedirectURIs   = 32
	maxRedirectURILen = 2000
)

// CreateClientRequest describes a new OAuth client.
type CreateClientRequest struct {
	Tenant                 string // tenant name
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Public                 bool
}

// CreateClient registers an OAuth client with fresh ids. For a
// confidential client it returns the secret, shown once and stored only
// as its SHA-256 (the secret is 256 bits of randomness, so a fast hash is
// enough, as for API keys); "" for a public one.
func (i *Issuer) CreateClient(ctx context.Context, r CreateClientRequest) (*actas.OAuthClient, string, error) {
	t, err := i.TenantByName(ctx, r.Tenant)
	if err != nil {
		return nil, "", err
	}
	if r.Name == "" || len(r.Name) > maxClientNameLen || !utf8.ValidString(r.Name) {
		return nil, "", actas.Errorf(actas.EINVALID, "client name must be 1-%d bytes of UTF-8", maxClientNameLen)
	}
	if len(r.RedirectURIs) == 0 {
		return nil, "", actas.Errorf(actas.EINVALID, "at least one redirect URI is required")
	}
	for _, list := range [][]string{r.RedirectURIs, r.PostLogoutRedirectURIs} {
		if len(list) > maxRedirectURIs {
			return nil, "", actas.Errorf(actas.EINVALID, "at most %d redirect URIs", maxRedirectURIs)
		}
		for _, u := range list {
			if err := checkRedirectURI(u); err != nil {
				return nil, "", err
			}
		}
	}
	c := &actas.OAuthClient{
		ID: actas.NewClientID(), TenantID: t.ID, Name: r.Name,
		RedirectURIs: dedupe(r.RedirectURIs), PostLogoutRedirectURIs: dedupe(r.PostLogoutRedirectURIs),
		Public: r.Public, CreatedAt: i.now(),
	}
	var secret string
	if !r.Public {
		secret = randomSecret()
		c.SecretHash = hashSecret(secret)
	}
	if err := i.store.CreateOAuthClient(ctx, c); err != nil {
		return nil, "", wrap("create client", err)
	}
	i.cors.invalidate(t.ID)
	return c, secret, nil
}

func dedupe(l []string) []string {
	var out []string
	for _, s := range l {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Clients lists a tenant's OAuth clients.
func (i *Issuer) Clients(ctx context.Context, tenant string) ([]*actas.OAuthClient, error) {
	t, err := i.TenantByName(ctx, tenant)
	if err != nil {
		return nil, err
	}
	cs, err := i.store.OAuthClients(ctx, t.ID)
	return cs, wrap("list clients", err)
}

var errNoClient = actas.Errorf(actas.ENOTFOUND, "no such client")

// ClientByID returns one OAuth client of a tenant.
func (i *Issuer) ClientByID(ctx context.Context, tenant, id string) (*actas.OAuthClient, error) {
	t, err := i.TenantByName(ctx, tenant)
	if err != nil {
		return nil, err
	}
	c, err := i.store.OAuthClient(ctx, t.ID, id)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, errNoClient
	}
	return c, wrap("find client", err)
}

// DeleteClient removes an OAuth client. Tokens it was issued stay valid
// until they expire or are revoked; it can start no new flow and refresh
// nothing (the refresh grant authenticates the client).
func (i *Issuer) DeleteClient(ctx context.Context, tenant, id string) error {
	t, err := i.TenantByName(ctx, tenant)
	if err != nil {
		return err
	}
	err = i.store.DeleteOAuthClient(ctx, t.ID, id)
	i.cors.invalidate(t.ID)
	if errors.Is(err, actas.ErrNotFound) {
		return errNoClient
	}
	return wrap("delete client", err)
}

// checkRedirectURI accepts an absolute https URL, or an http URL on a
// loopback host (RFC 8252 §7.3), without fragment or user information
// (RFC 6749 §3.1.2).
func checkRedirectURI(s string) error {
	bad := func(why string) error {
		return actas.Errorf(actas.EINVALID, "invalid redirect URI %q: %s", truncate(s, 100), why)
	}
	if len(s) > maxRedirectURILen {
		return bad("too long")
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || u.Opaque != "":
		return bad("not an absolute URL")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return bad("a fragment is not allowed")
	case u.User != nil:
		return bad("user information is not allowed")
	case u.Host == "" || u.Hostname() == "":
		return bad("no host")
	case strings.ContainsAny(s, "\\ \t\r\n"):
		return bad("contains a backslash or whitespace")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
		return nil
	}
	return bad("use https, or http on a loopback host")
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// matchRedirectURI returns the registered URI the requested one matches:
// exactly, byte for byte, or, for a registered http URI on a loopback IP
// literal without a port, the same URI with any port (RFC 8252 §7.3). The
// comparison is on strings, never on parsed URLs, so no parser quirk (a
// "@", a "\", percent-encoding) can make two different URIs match.
func matchRedirectURI(c *actas.OAuthClient, requested string) (string, bool) {
	for _, reg := range c.RedirectURIs {
		if reg == requested {
			return reg, true
		}
	}
	for _, reg := range c.RedirectURIs {
		if loopbackAnyPort(reg, requested) {
			return reg, true
		}
	}
	return "", false
}

func loopbackAnyPort(reg, requested string) bool {
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		prefix := "http://" + host
		rest, ok := strings.CutPrefix(reg, prefix)
		if !ok || (rest != "" && rest[0] != '/' && rest[0] != '?') {
			continue // another host, or a port is registered: exact only
		}
		tail, ok := strings.CutPrefix(requested, prefix+":")
		if !ok {
			return false
		}
		n := 0
		for n < len(tail) && n < 6 && tail[n] >= '0' && tail[n] <= '9' {
			n++
		}
		if port, err := strconv.Atoi(tail[:n]); err != nil || port < 1 || port > 65535 || tail[0] == '0' {
			return false
		}
		return tail[n:] == rest
	}
	return false
}

// authenticateClient checks a client's credentials at the token
// endpoint: a confidential client must present its secret, a public one
// none. Every failure is the same invalid_client.
func (i *Issuer) authenticateClient(ctx context.Context, t *actas.Tenant, cc ClientCredentials) (*actas.OAuthClient, error) {
	if !actas.ValidOAuthClientID(cc.ID) {
		return nil, errInvalidClient
	}
	c, err := i.store.OAuthClient(ctx, t.ID, cc.ID)
	if errors.Is(err, actas.ErrNotFound) {
		return nil, errInvalidClient
	} else if err != nil {
		return nil, wrap("find client", err)
	}
	if c.Public {
		if cc.SecretSent {
			return nil, errInvalidClient
		}
		return c, nil
	}
	if !cc.SecretSent || subtle.ConstantTimeCompare(hashSecret(cc.Secret), c.SecretHash) != 1 {
		return nil, errInvalidClient
	}
	return c, nil
}

// randomSecret returns 43 base64url characters of 256 random bits.
func randomSecret() string {
	s, _ := newRefreshToken("", 0, time.Time{})
	return s
}
