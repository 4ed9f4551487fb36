// Package verify lets a resource server accept actas tokens with the same
// checks as actas itself, including revocation. It imports only the
// standard library and github.com/actas-dev/actas/jose, the JWS and strict
// JSON code it shares with actas's issuer, which itself imports only the
// standard library; nothing of actas's domain, storage or server code.
//
//	v, err := verify.New(ctx, verify.Config{
//		Issuer:   "https://auth.example.com/local_a1b2c3d4e",
//		ClientID: "<tenant clientId>",
//		APIKey:   os.Getenv("ACTAS_API_KEY"), // reads the revocation feed
//	})
//	if err != nil { log.Fatal(err) }
//	defer v.Close()
//	http.Handle("/", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		c, _ := verify.ClaimsFrom(r.Context())
//		fmt.Fprintf(w, "hello %s (acting: %v)\n", c.Name(), c.Act)
//	})))
//
// What it checks (SPEC §4; RFC 8725): the signature with the key of the
// token's kid from the issuer's JWKS, with that key's own algorithm
// (RS256, ES256 or EdDSA; never "none" or HMAC); iss; token_use; aud (ID
// token) or client_id (access token); exp, nbf and iat with at most 60 s
// of skew; jti and origin_jti present and neither revoked.
//
// Keys are cached by kid. A token naming an unknown kid makes the verifier
// fetch the JWKS again, at most once per KeyRefetchEvery, so a key rotation
// is picked up at once and forged kids cost nothing; the JWKS is also
// refreshed every KeyRefreshEvery in the background.
//
// Revocation: New reads every revocation of the tenant still in force,
// then a goroutine long-polls actas's revocation feed (the
// revocation_feed_endpoint of discovery), which answers as soon as a
// session or token is revoked. A revocation so reaches the verifier within
// about a second, and the request path makes no network call. If the
// feed has not answered for FeedMaxStale (default 10 s), verification
// fails with ErrUnavailable (Middleware answers 503) unless FailOpen is
// set. Stats reports the feed's lag and the state of the fail mode.
//
// Where the neighbours take over: issuing, refreshing and revoking tokens
// is actas's; deciding what a verified user may do is the application's.
package verify
