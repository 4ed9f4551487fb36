// Package storeguard makes a store fail fast. It wraps an actas.Store for
// a server's request paths: every call gets a deadline (Config.Timeout,
// 2 s by default, unless the caller's context has one of its own), so a
// database that stops answering costs a request at most that long; and
// once a call has waited out that deadline the store is known down, so
// the calls after it fail at once with actas.ErrUnavailable (503 with
// Retry-After at the edge) instead of each waiting the deadline out.
// While it is down, a background probe pings the store every
// Config.RetryEvery (no request waits for it); the first ping that gets
// an answer ends the outage for every caller.
//
// Faults that fail fast by themselves (a full disk, a read-only or busy
// database, a refused connection) pass through as they are: they need no
// circuit, and reads may still work while writes fail.
//
// What the guard does not own: mapping driver errors to actas.ErrUnavailable
// (each store does that by error code), readiness (issuer's write probe)
// and the answer itself (httpapi). Every method of actas.Store is
// declared on Guard (a test fails if one is only promoted from the
// embedded store) and guarded, but for PurgeExpired (background work,
// left to the store's own bound) and Close; Unwrap returns the store
// underneath for optional interfaces.
package storeguard
