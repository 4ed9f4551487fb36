package jose

import (
	"errors"
	"testing"
	"time"
)

// TestValidateKinds checks that Validate's failures are *Error of the two
// claims kinds and that Sentinels.Wrap hands them a caller's sentinels with
// the detail kept, as token and verify rely on.
func TestValidateKinds(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	good := func() *Claims {
		return &Claims{Sub: "s", Iss: "https://i/p", TokenUse: UseAccess, ClientID: "c",
			Jti: "j", OriginJti: "o", Iat: now.Unix(), Exp: now.Add(time.Hour).Unix()}
	}
	e := Expect{Issuer: "https://i/p", ClientID: "c", TokenUse: UseAccess, Now: now}
	if err := good().Validate(e); err != nil {
		t.Fatalf("valid claims: %v", err)
	}
	mine := errors.New("mine: invalid")
	mineExp := errors.New("mine: expired")
	s := Sentinels{InvalidClaims: mine, Expired: mineExp}

	bad := good()
	bad.Iss = "https://i/q"
	err := bad.Validate(e)
	if !errors.Is(err, ErrInvalidClaims) {
		t.Fatalf("wrong iss: %v, want ErrInvalidClaims", err)
	}
	if w := s.Wrap(err); !errors.Is(w, mine) || w.Error() != "mine: invalid: iss does not match" {
		t.Fatalf("wrapped: %v", w)
	}

	use := e
	use.TokenUse = "refresh"
	if err := good().Validate(use); !errors.Is(err, ErrInvalidClaims) {
		t.Fatalf("unknown token_use: %v, want ErrInvalidClaims", err)
	}

	late := e
	late.Now = now.Add(2 * time.Hour)
	err = good().Validate(late)
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v, want ErrExpired", err)
	}
	if w := s.Wrap(err); w != mineExp {
		t.Fatalf("wrapped expiry %v, want the sentinel itself", w)
	}
	late.AllowExpired = true
	if err := good().Validate(late); err != nil {
		t.Fatalf("expired allowed: %v", err)
	}

	// A Sentinels without claims kinds leaves those errors as they are.
	if w := (&Sentinels{}).Wrap(err); w != err {
		t.Fatalf("no sentinel: %v, want %v", w, err)
	}
}
