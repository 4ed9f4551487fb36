// Package metrics exposes actas's Prometheus metrics: the one package that
// imports the Prometheus client. The transport (httpapi) and the password
// hasher report through function hooks (httpapi.Observer,
// password.Observer) that cmd/actas wires to the methods here, so neither
// depends on Prometheus; state that already lives elsewhere (revocation
// set, hash queue, database pools) is read when scraped.
//
// No label carries a username, a token, a tenant or a raw path: routes are
// ServeMux patterns, methods and outcomes come from fixed lists. The
// families are documented in docs/operations.md.
package metrics
