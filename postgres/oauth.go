package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// The stores of browser sign-in (actas.ClientStore, AuthCodeStore,
// BrowserSessionStore); their rows are mapped in internal/sqlrow.

func (db *DB) insert(ctx context.Context, op, table, cols string, args []any) error {
	return wrap(op, db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO `+table+` (`+cols+`) VALUES (`+placeholders(1, len(args))+`)`, args...)
		return err
	}))
}

// CreateOAuthClient stores a new OAuth client.
func (db *DB) CreateOAuthClient(ctx context.Context, c *actas.OAuthClient) error {
	return db.insert(ctx, "create oauth client", "oauth_clients", sqlrow.OAuthClientCols, sqlrow.OAuthClientArgs(c))
}

// OAuthClient returns a tenant's client by id.
func (db *DB) OAuthClient(ctx context.Context, tenantID, id string) (*actas.OAuthClient, error) {
	var c *actas.OAuthClient
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		c, err = sqlrow.ScanOAuthClient(q.QueryRow(ctx, `SELECT `+sqlrow.OAuthClientCols+
			` FROM oauth_clients WHERE id = $1 AND tenant_id = $2`, id, tenantID))
		return err
	})
	if err != nil {
		return nil, wrap("oauth client", err)
	}
	return c, nil
}

// OAuthClients returns a tenant's clients by name, then id (byte order).
func (db *DB) OAuthClients(ctx context.Context, tenantID string) ([]*actas.OAuthClient, error) {
	var out []*actas.OAuthClient
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT `+sqlrow.OAuthClientCols+` FROM oauth_clients
			WHERE tenant_id = $1 ORDER BY name COLLATE "C", id`, tenantID)
		if err != nil {
			return err
		}
		out, err = collect(rows, sqlrow.ScanOAuthClient)
		return err
	})
	return out, wrap("oauth clients", err)
}

// DeleteOAuthClient deletes a client.
func (db *DB) DeleteOAuthClient(ctx context.Context, tenantID, id string) error {
	return wrap("delete oauth client", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, `DELETE FROM oauth_clients WHERE id = $1 AND tenant_id = $2`, id, tenantID)
	}))
}

// CreateAuthCode stores a new authorization code.
func (db *DB) CreateAuthCode(ctx context.Context, c *actas.AuthCode) error {
	return db.insert(ctx, "create auth code", "oauth_codes", sqlrow.AuthCodeCols, sqlrow.AuthCodeArgs(c))
}

// AuthCode returns a code by hash.
func (db *DB) AuthCode(ctx context.Context, hash []byte) (*actas.AuthCode, error) {
	var c *actas.AuthCode
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		c, err = sqlrow.ScanAuthCode(q.QueryRow(ctx, `SELECT `+sqlrow.AuthCodeCols+` FROM oauth_codes WHERE hash = $1`, hash))
		return err
	})
	if err != nil {
		return nil, wrap("auth code", err)
	}
	return c, nil
}

// RedeemAuthCode marks a code used and stores its grant, holding the
// code's row lock from the read to the write so that of two concurrent
// redemptions exactly one wins.
func (db *DB) RedeemAuthCode(ctx context.Context, hash []byte, now time.Time, g *actas.OAuthGrant) (*actas.AuthCode, error) {
	var out *actas.AuthCode
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		c, err := sqlrow.ScanAuthCode(tx.QueryRow(ctx, `SELECT `+sqlrow.AuthCodeCols+
			` FROM oauth_codes WHERE hash = $1 FOR UPDATE`, hash))
		if err != nil {
			return err
		}
		out = c
		if !c.UsedAt.IsZero() {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE oauth_codes SET used_at = $1, session_id = $2 WHERE hash = $3`,
			sqlrow.MS(now), g.SessionID, hash); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO oauth_grants (`+sqlrow.OAuthGrantCols+`) VALUES (`+placeholders(1, 5)+`)`,
			sqlrow.OAuthGrantArgs(g)...)
		return err
	})
	if err != nil {
		return nil, wrap("redeem auth code", err)
	}
	return out, nil
}

// CreateOAuthGrant stores the grant of a session.
func (db *DB) CreateOAuthGrant(ctx context.Context, g *actas.OAuthGrant) error {
	return db.insert(ctx, "create oauth grant", "oauth_grants", sqlrow.OAuthGrantCols, sqlrow.OAuthGrantArgs(g))
}

// OAuthGrant returns the grant of a session.
func (db *DB) OAuthGrant(ctx context.Context, sessionID string) (*actas.OAuthGrant, error) {
	var g *actas.OAuthGrant
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		g, err = sqlrow.ScanOAuthGrant(q.QueryRow(ctx, `SELECT `+sqlrow.OAuthGrantCols+
			` FROM oauth_grants WHERE session_id = $1`, sessionID))
		return err
	})
	if err != nil {
		return nil, wrap("oauth grant", err)
	}
	return g, nil
}

// CreateBrowserSession stores a browser-session cookie's hash.
func (db *DB) CreateBrowserSession(ctx context.Context, b *actas.BrowserSession) error {
	return db.insert(ctx, "create browser session", "browser_sessions", sqlrow.BrowserSessionCols, sqlrow.BrowserSessionArgs(b))
}

// BrowserSession returns the row of a cookie's hash.
func (db *DB) BrowserSession(ctx context.Context, hash []byte) (*actas.BrowserSession, error) {
	var b *actas.BrowserSession
	err := db.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		b, err = sqlrow.ScanBrowserSession(q.QueryRow(ctx, `SELECT `+sqlrow.BrowserSessionCols+
			` FROM browser_sessions WHERE hash = $1`, hash))
		return err
	})
	if err != nil {
		return nil, wrap("browser session", err)
	}
	return b, nil
}

// DeleteBrowserSession deletes the row of a cookie's hash, if any.
func (db *DB) DeleteBrowserSession(ctx context.Context, hash []byte) error {
	return wrap("delete browser session", db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM browser_sessions WHERE hash = $1`, hash)
		return err
	}))
}
