package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
)

// The client address is what throttling keys on and what audit events
// and sessions record. Behind a reverse proxy the direct peer is the
// proxy, and the client is in X-Forwarded-For; but anyone can send that
// header, so it is believed only as far as it was written by proxies the
// operator trusts.

// clientIP returns the client address of r, resolved once by the
// middleware (see Server.clientAddr).
func clientIP(r *http.Request) string {
	if st := state(r); st.ip != "" {
		return st.ip
	}
	return peerIP(r)
}

// peerIP is the address of the direct peer.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return host
}

// clientAddr resolves the client address: the direct peer, unless the
// peer is a trusted proxy, in which case X-Forwarded-For (or, without
// it, the for= parameters of RFC 7239 Forwarded) is walked from
// right to left (the right-most entry was written by the peer itself),
// skipping trusted hops; the first untrusted address is the client. If
// every hop is trusted, the left-most is the client. A malformed entry
// stops the walk at the last address known good, so a client cannot
// smuggle a chosen address past its own proxy.
func (s *Server) clientAddr(r *http.Request) string {
	peer := peerIP(r)
	if s.TrustedProxy == nil || !s.TrustedProxy(peer) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	if len(hops) == 0 {
		hops = forwardedFor(r.Header.Values("Forwarded"))
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return client
		}
		client = a
		if !s.TrustedProxy(a) {
			return a
		}
	}
	return client
}

// forwardedFor returns the for= value of each element of RFC 7239
// Forwarded headers, in order. An element without one, or with an
// obfuscated or "unknown" node (RFC 7239 §6), gives a hop parseHop
// refuses, so the walk stops there, as at a malformed X-Forwarded-For
// entry.
func forwardedFor(values []string) []string {
	var hops []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			hop := ""
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					hop = strings.Trim(val, `"`)
				}
			}
			hops = append(hops, hop)
		}
	}
	return hops
}

// parseHop parses one X-Forwarded-For entry: an IP address, possibly
// with a port (some proxies add one) or in brackets.
func parseHop(h string) (string, bool) {
	h = strings.TrimSpace(h)
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap().String(), true
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	a, err := netip.ParseAddr(h)
	if err != nil || a.Zone() != "" {
		return "", false
	}
	return a.Unmap().String(), true
}

// ProxyList is a set of trusted proxy networks that can be replaced while
// the server runs (SIGHUP). Its Contains method is a Server.TrustedProxy.
type ProxyList struct {
	p atomic.Pointer[[]netip.Prefix]
}

// ParseProxies parses a list of CIDR prefixes or single addresses.
// Every malformed entry is reported.
func ParseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var bad []string
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		bad = append(bad, fmt.Sprintf("%q", s))
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("not a CIDR prefix or IP address: %s", strings.Join(bad, ", "))
	}
	return out, nil
}

// Set replaces the list.
func (l *ProxyList) Set(p []netip.Prefix) { l.p.Store(&p) }

// Contains reports whether ip is in a trusted network.
func (l *ProxyList) Contains(ip string) bool {
	p := l.p.Load()
	if p == nil || len(*p) == 0 {
		return false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, n := range *p {
		if n.Contains(a) {
			return true
		}
	}
	return false
}
