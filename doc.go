// Package actas holds the domain of the actas token service: tenants, API
// keys, users, sessions, signing keys and audit events, the Store interface
// every storage backend implements, and the error codes shared by every
// layer.
//
// It imports only the standard library. The rules (sign-in, refresh,
// expire, impersonation) live in package issuer; the wire format lives in
// package httpapi; storage lives in packages sqlite and postgres. See
// SPEC.md in the project's shared documents for the product contract.
package actas
