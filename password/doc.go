// Package password hashes and verifies passwords with argon2id (RFC 9106)
// in the PHC string format, and bounds how many hashes run at once.
//
// One argon2id evaluation with the OWASP parameters (m=19 MiB, t=2, p=1)
// allocates about 19 MiB, so the number running concurrently is what bounds
// the service's memory under a flood of sign-ins. A Hasher admits at most a
// fixed number of evaluations at a time; callers beyond that wait a short,
// bounded time in a bounded queue and then get ErrBusy, which the HTTP edge
// turns into 503 with Retry-After.
//
// Unknown users are "verified" against a dummy hash with the same
// parameters (Hasher.VerifyDummy) so that the unknown-user and
// wrong-password paths cost the same time.
package password
