// Package httpapi is the HTTP transport of actas: the compatible
// Authentication API (/auth/token, /auth/impersonate), the per-tenant
// OpenID Connect endpoints (/<userPoolId>/.well-known/…), the error
// envelope, and the middleware every route shares (request id, panic
// recovery, body limit, security headers, access log).
//
// Handlers parse a request once into the typed request of package issuer
// and call it; the rules live there. Errors become HTTP statuses in one
// table (statusOf); only client-safe messages reach a response.
package httpapi
