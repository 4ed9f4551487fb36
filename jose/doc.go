// Package jose holds the JOSE code that actas's issuer (package token) and
// its resource-server library (package verify) share, so that a token is
// refused on both sides for exactly the same reasons. It imports only the
// standard library, and nothing of actas: verify depends on it, and verify
// must stay importable without actas's domain, storage or server code.
//
// What it owns:
//
//   - Verify: the compact JWS serialization (RFC 7515 §3.1, §7.1) with
//     bounded input (MaxTokenLen, MaxHeaderLen), exactly three non-empty
//     segments, and strict base64url (RFC 7515 §2; RFC 4648 §5): no
//     padding, no character outside the alphabet, no non-zero trailing
//     bits, so each token has one spelling.
//   - The protected header (RFC 7515 §4): kid and alg read strictly; a
//     repeated member refused (§5.2); "crit" refused, since no extension
//     is understood (§4.1.11); "b64" (RFC 7797), "zip" and "enc" refused;
//     "jwk", "jku", "x5u" and "x5c" refused, since a key comes from the
//     caller, never from the token (§4.1.2-§4.1.6). A kid must pass
//     ValidKID before any lookup.
//   - Key and NewKey: a public key pinned to one algorithm, RS256
//     (RFC 7518 §3.3), ES256 with the 64-byte R||S signature (RFC 7518
//     §3.4) or EdDSA with Ed25519 (RFC 8037 §3.1). The header's alg must
//     equal the key's; "none" and HMAC are never accepted (RFC 7518 §3.1,
//     RFC 8725 §2.1, §3.1).
//   - DecodeObject and the Decode functions: the strict JSON reader for
//     headers and claims (RFC 8259; RFC 7519 §4): valid UTF-8, exactly one
//     object, member names matched exactly (not case-insensitively as
//     encoding/json does) and refused when repeated, also when only an
//     escape tells them apart ("s\u0075b" repeats "sub"); integers only
//     for times (RFC 7519 §2 NumericDate, no fraction or exponent); "aud"
//     as a string or a one-element array (RFC 7519 §4.1.3).
//   - Claims, DecodeClaims and Claims.Validate: the one claims type of
//     actas's tokens (SPEC §4), its strict decoder, and the checks of iss,
//     token_use, aud or client_id, sub, jti, origin_jti, exp, nbf and iat
//     with at most MaxSkew of skew. token.Claims and verify.Claims are
//     types defined from it, so a claim added here reaches both.
//
// What it does not do: decide what a tenant expects (the caller fills
// Expect), find keys (the caller's lookup), sign, or read JWK Sets. Errors
// of Verify and Validate are *Error of one of six kinds; Sentinels.Wrap
// gives them a caller's own sentinels.
package jose
