package issuer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/token"
)

// Key compromise and mass logout: the operations behind `actas keys
// retire` and `actas session revoke --all / --username`.

// inService reports whether a key is neither retired by a rotation nor
// withdrawn: rotations and algorithm changes retire only such keys, so a
// withdrawn key is never brought back into JWKS.
func inService(k *actas.SigningKey) bool {
	return k.State != actas.KeyRetired && k.State != actas.KeyWithdrawn
}

// WithdrawResult says what WithdrawKey did.
type WithdrawResult struct {
	Tenant *actas.Tenant
	Key    *actas.SigningKey // the withdrawn key, as stored
	// Replacement is the key created to sign in its place: when the
	// withdrawn key was signing (active at once), or was the next key of a
	// pending rotation (same activation time). Nil otherwise.
	Replacement *actas.SigningKey
	Already     bool // the key was already withdrawn; nothing changed but the revocation
	Revoked     int  // sessions revoked (revokeSessions)
}

// WithdrawKey takes the signing key kid out of service at once, for a
// key that may be compromised: it leaves JWKS now (RetireUntil = now),
// never signs again, and actas refuses every token it signed (checkToken
// trusts only published keys). If it was signing, a replacement of the
// same use is created and signs from now, in the same transaction; if
// it was the next key of a pending rotation, a replacement takes its
// place and activation time. With revokeSessions, every unrevoked session
// of the key's tenant is then revoked, so that tokens the key signed also
// die in resource servers that follow the revocation feed. Withdrawing a
// withdrawn key changes nothing (and still revokes if asked).
func (i *Issuer) WithdrawKey(ctx context.Context, kid string, revokeSessions bool) (*WithdrawResult, error) {
	t, sk, err := i.findKey(ctx, kid)
	if err != nil {
		return nil, err
	}
	now := i.now()
	alg := t.Settings.SigningAlg
	// Generate outside the transaction (an RSA key takes a while); used
	// only if the key turns out to need a replacement.
	fresh, err := token.GenerateKey(i.sealer, t.ID, sk.Use, alg, now)
	if err != nil {
		return nil, wrap("generate signing key", err)
	}
	res := &WithdrawResult{Tenant: t}
	_, err = i.store.UpdateSigningKeys(ctx, t.ID, func(keys []*actas.SigningKey) ([]*actas.SigningKey, error) {
		res.Key, res.Replacement, res.Already = nil, nil, false // fn may run again
		var k *actas.SigningKey
		for _, x := range keys {
			if x.KID == kid {
				k = x
			}
		}
		if k == nil {
			return nil, actas.Errorf(actas.ENOTFOUND, "no signing key with kid %q", kid)
		}
		if k.State == actas.KeyWithdrawn {
			res.Already = true
			c := *k
			res.Key = &c
			return keys, nil
		}
		signing := storedSigner(keys, k.Use, alg, now) == k
		pending := k.Alg == alg && keySince(k).After(now) && inService(k)
		k.State, k.RetireUntil = actas.KeyWithdrawn, now
		switch {
		case signing:
			r := *fresh
			// A pending rotation's next key still takes over at its time;
			// the replacement bridges until then and leaves JWKS once its
			// tokens have expired, as a rotated key does.
			var next *actas.SigningKey
			for _, x := range keys {
				if x.Use == k.Use && x.Alg == alg && keySince(x).After(now) && inService(x) &&
					(next == nil || keySince(x).Before(keySince(next))) {
					next = x
				}
			}
			if next != nil {
				r.State, r.RetireUntil = actas.KeyRetired, keySince(next).Add(t.Settings.AccessTTL.D())
			}
			res.Replacement = &r
			keys = append(keys, &r)
		case pending:
			r := *fresh
			r.State, r.ActivateAt = actas.KeyNext, k.ActivateAt
			res.Replacement = &r
			keys = append(keys, &r)
		}
		c := *k
		res.Key = &c
		return keys, nil
	})
	i.keys.forget(t.ID)
	if err != nil {
		return nil, wrap("withdraw signing key", err)
	}
	details := fmt.Sprintf("signing key %s (%s) withdrawn", kid, res.Key.Use)
	if res.Already {
		details = fmt.Sprintf("signing key %s was already withdrawn", kid)
	}
	if res.Replacement != nil {
		details += "; replaced by " + res.Replacement.KID
	}
	if revokeSessions {
		n, err := i.revokeCounting(ctx, actas.RevokeQuery{TenantID: t.ID, All: true}, now, actas.ReasonKeyWithdrawn)
		if err != nil {
			return nil, err
		}
		res.Revoked = n
		details += fmt.Sprintf("; %d sessions revoked", n)
	}
	i.auditOperator(ctx, t.ID, actas.ActionKeyWithdrawn, "", "", now, details)
	return res, nil
}

// findKey returns a signing key by kid and its tenant.
func (i *Issuer) findKey(ctx context.Context, kid string) (*actas.Tenant, *actas.SigningKey, error) {
	ts, err := i.store.Tenants(ctx)
	if err != nil {
		return nil, nil, wrap("list tenants", err)
	}
	for _, t := range ts {
		keys, err := i.store.SigningKeys(ctx, t.ID)
		if err != nil {
			return nil, nil, wrap("signing keys", err)
		}
		for _, k := range keys {
			if k.KID == kid {
				t.Settings = t.Settings.WithDefaults()
				return t, k, nil
			}
		}
	}
	return nil, nil, actas.Errorf(actas.ENOTFOUND, "no signing key with kid %q", kid)
}

// RevokeTenantSessions revokes every unrevoked session of a tenant (a
// mass logout) and returns how many it revoked.
func (i *Issuer) RevokeTenantSessions(ctx context.Context, tenant string) (int, error) {
	t, err := i.TenantByName(ctx, tenant)
	if err != nil {
		return 0, err
	}
	now := i.now()
	n, err := i.revokeCounting(ctx, actas.RevokeQuery{TenantID: t.ID, All: true}, now, actas.ReasonAdmin)
	if err != nil {
		return 0, err
	}
	i.auditOperator(ctx, t.ID, actas.ActionSessionsRevoked, "", "", now, fmt.Sprintf("every session of the tenant revoked: %d", n))
	return n, nil
}

// RevokeUserSessions revokes every session of one user and every
// impersonation session the user started, and returns how many.
func (i *Issuer) RevokeUserSessions(ctx context.Context, tenant, username string) (int, error) {
	t, u, err := i.UserByName(ctx, tenant, username)
	if err != nil {
		return 0, err
	}
	now := i.now()
	n, err := i.revokeCounting(ctx, actas.RevokeQuery{TenantID: t.ID, UserID: u.ID}, now, actas.ReasonAdmin)
	if err != nil {
		return 0, err
	}
	m, err := i.revokeCounting(ctx, actas.RevokeQuery{TenantID: t.ID, ImpersonatorID: u.ID}, now, actas.ReasonAdmin)
	if err != nil {
		return n, err
	}
	i.auditOperator(ctx, t.ID, actas.ActionSessionsRevoked, u.ID, u.Username, now,
		fmt.Sprintf("every session of the user revoked: %d", n+m))
	return n + m, nil
}

// revokeCounting is revokeSessions returning how many sessions it
// revoked: in the store, then in memory, before the caller answers.
func (i *Issuer) revokeCounting(ctx context.Context, q actas.RevokeQuery, now time.Time, reason string) (int, error) {
	revoked, err := i.store.RevokeSessions(ctx, q, now, reason)
	if err != nil {
		return 0, wrap("revoke sessions", err)
	}
	for _, s := range revoked {
		i.revoked.Add(s.ID, s.ExpiresAt)
	}
	return len(revoked), nil
}

// auditOperator records an operator's action from the command line. A
// failure to record it is logged, not returned: the action is done.
func (i *Issuer) auditOperator(ctx context.Context, tenantID, action, subjectID, subject string, now time.Time, details string) {
	err := i.store.AppendAudit(ctx, &actas.AuditEvent{
		Time: now, TenantID: tenantID, Action: action, Actor: "operator",
		SubjectID: subjectID, Subject: subject, Outcome: actas.OutcomeAllowed, Details: details,
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		i.log.Warn("record audit event failed", "action", action, "err", err)
	}
}
