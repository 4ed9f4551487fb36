// Package issuer holds the rules of actas: authenticating API keys,
// signing in, refreshing, expiring sessions, revocation, and the
// administrative operations the command line offers (tenants, keys,
// users, groups, sessions). It knows nothing of HTTP or SQL: package
// httpapi turns requests into calls here, and an actas.Store persists
// what it decides.
//
// Time comes from the Issuer's Now function, stamped once per operation,
// so that expiry can be tested by moving a clock.
//
// Revocation takes effect on every token the issuer accepts: it keeps the
// set of revoked session ids (origin_jti) and token ids (jti) in memory
// (a revocation.Set, which also serves the revocation feed), loaded from
// the store at start and followed by cursor (Sync), and adds its own
// revocations the moment they are committed.
package issuer
