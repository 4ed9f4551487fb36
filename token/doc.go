// Package token mints and verifies actas's JSON Web Tokens and owns the
// signing keys they need: key generation, sealing private keys at rest,
// the JWK Set that publishes the public halves, and validation of claims.
//
// Its parts:
//
//   - Master key and Sealer: private keys are stored only as PKCS#8 sealed
//     with AES-256-GCM under the master key (SPEC §5), the kid bound in as
//     associated data.
//   - GenerateKey, LoadKey, PublicKey: an actas.SigningKey as stored, and a
//     Key as used. Each key is pinned to one algorithm (RS256, ES256 or
//     EdDSA; RFC 7518 §3, RFC 8037 §3.1) and one use (ID or access token).
//   - Sign: compact JWS (RFC 7515 §3.1, §7.1) with the protected header
//     {"kid":…,"alg":…} and no typ, as Cognito does.
//   - JWKS: the JWK Set document (RFC 7517 §5) with RSA, EC and OKP keys
//     (RFC 7518 §6, RFC 8037 §2).
//   - Parse: verification that follows RFC 8725 (JWT best current
//     practice): the key chooses the algorithm, never the token; no "none",
//     no HMAC; bounded input; strict base64url and strict JSON, refusing
//     repeated member names; the payload is read only after the signature
//     holds. The JWS and strict-JSON checks are package jose's, shared
//     with verify so that both refuse exactly the same tokens.
//   - Claims.Validate: iss, token_use, aud or client_id, exp, nbf and iat
//     with at most 60 s of skew (SPEC §4); the claims type, its decoder
//     and these checks are package jose's, shared with verify.
//
// Where the neighbours take over: which key is active, when the next key
// starts signing and when a retired key leaves JWKS is rotation policy in
// issuer/; storing keys is the actas.Store; revocation of jti and
// origin_jti is checked by issuer/ and by verify/, not here. Parse and
// Validate say whether a token is well made and current, not whether it
// was revoked.
//
// A revocation or replay check must key on the jti, never on the token
// string: ES256 signatures are malleable (for a valid (r, s), (r, n-s) is
// valid too), so one token can be spelled two ways.
package token
