// Package revocation holds what a server knows of revocations: the
// in-memory Set of revoked session ids (origin_jti) and token ids (jti)
// that every token check consults, and the revocation feed that resource
// servers (package verify) long-poll to learn of revocations within about
// a second.
//
// The Set follows the store's revocation log (actas.RevocationStore) by
// cursor: Start loads it, Sync applies what other processes appended, and
// Add records a local revocation the moment it is committed. It decides
// nothing: package issuer says what is revoked and when, authenticates
// feed callers and runs the periodic Sync; package httpapi serves the
// feed. It imports only the root package and the standard library.
package revocation
