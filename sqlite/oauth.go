package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/internal/sqlrow"
)

// The stores of browser sign-in (actas.ClientStore, AuthCodeStore,
// BrowserSessionStore); their rows are mapped in internal/sqlrow.

// CreateOAuthClient stores a new OAuth client.
func (db *DB) CreateOAuthClient(ctx context.Context, c *actas.OAuthClient) error {
	return wrap("create oauth client", db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_clients (`+sqlrow.OAuthClientCols+`) VALUES (`+placeholders(8)+`)`,
			sqlrow.OAuthClientArgs(c)...)
		return err
	}))
}

// OAuthClient returns a tenant's client by id.
func (db *DB) OAuthClient(ctx context.Context, tenantID, id string) (*actas.OAuthClient, error) {
	c, err := sqlrow.ScanOAuthClient(db.readRow(ctx, `SELECT `+sqlrow.OAuthClientCols+
		` FROM oauth_clients WHERE id = ? AND tenant_id = ?`, id, tenantID))
	if err != nil {
		return nil, wrap("oauth client", err)
	}
	return c, nil
}

// OAuthClients returns a tenant's clients by name, then id.
func (db *DB) OAuthClients(ctx context.Context, tenantID string) ([]*actas.OAuthClient, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlrow.OAuthClientCols+` FROM oauth_clients
		WHERE tenant_id = ? ORDER BY name, id`, tenantID)
	if err != nil {
		return nil, wrap("oauth clients", err)
	}
	out, err := collect(rows, sqlrow.ScanOAuthClient)
	return out, wrap("oauth clients", err)
}

// DeleteOAuthClient deletes a client.
func (db *DB) DeleteOAuthClient(ctx context.Context, tenantID, id string) error {
	return wrap("delete oauth client", db.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `DELETE FROM oauth_clients WHERE id = ? AND tenant_id = ?`, id, tenantID)
	}))
}

// CreateAuthCode stores a new authorization code.
func (db *DB) CreateAuthCode(ctx context.Context, c *actas.AuthCode) error {
	return wrap("create auth code", db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_codes (`+sqlrow.AuthCodeCols+`) VALUES (`+placeholders(14)+`)`,
			sqlrow.AuthCodeArgs(c)...)
		return err
	}))
}

// AuthCode returns a code by hash.
func (db *DB) AuthCode(ctx context.Context, hash []byte) (*actas.AuthCode, error) {
	c, err := sqlrow.ScanAuthCode(db.readRow(ctx, `SELECT `+sqlrow.AuthCodeCols+` FROM oauth_codes WHERE hash = ?`, hash))
	if err != nil {
		return nil, wrap("auth code", err)
	}
	return c, nil
}

// RedeemAuthCode marks a code used and stores its grant, in one
// transaction with reading it.
func (db *DB) RedeemAuthCode(ctx context.Context, hash []byte, now time.Time, g *actas.OAuthGrant) (*actas.AuthCode, error) {
	var out *actas.AuthCode
	err := db.write(ctx, func(tx *sql.Tx) error {
		c, err := sqlrow.ScanAuthCode(tx.QueryRowContext(ctx, `SELECT `+sqlrow.AuthCodeCols+
			` FROM oauth_codes WHERE hash = ?`, hash))
		if err != nil {
			return err
		}
		out = c
		if !c.UsedAt.IsZero() {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oauth_codes SET used_at = ?, session_id = ? WHERE hash = ?`,
			sqlrow.MS(now), g.SessionID, hash); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO oauth_grants (`+sqlrow.OAuthGrantCols+`) VALUES (`+placeholders(5)+`)`,
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
	return wrap("create oauth grant", db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_grants (`+sqlrow.OAuthGrantCols+`) VALUES (`+placeholders(5)+`)`,
			sqlrow.OAuthGrantArgs(g)...)
		return err
	}))
}

// OAuthGrant returns the grant of a session.
func (db *DB) OAuthGrant(ctx context.Context, sessionID string) (*actas.OAuthGrant, error) {
	g, err := sqlrow.ScanOAuthGrant(db.readRow(ctx, `SELECT `+sqlrow.OAuthGrantCols+
		` FROM oauth_grants WHERE session_id = ?`, sessionID))
	if err != nil {
		return nil, wrap("oauth grant", err)
	}
	return g, nil
}

// CreateBrowserSession stores a browser-session cookie's hash.
func (db *DB) CreateBrowserSession(ctx context.Context, b *actas.BrowserSession) error {
	return wrap("create browser session", db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO browser_sessions (`+sqlrow.BrowserSessionCols+`) VALUES (`+placeholders(4)+`)`,
			sqlrow.BrowserSessionArgs(b)...)
		return err
	}))
}

// BrowserSession returns the row of a cookie's hash.
func (db *DB) BrowserSession(ctx context.Context, hash []byte) (*actas.BrowserSession, error) {
	b, err := sqlrow.ScanBrowserSession(db.readRow(ctx, `SELECT `+sqlrow.BrowserSessionCols+
		` FROM browser_sessions WHERE hash = ?`, hash))
	if err != nil {
		return nil, wrap("browser session", err)
	}
	return b, nil
}

// DeleteBrowserSession deletes the row of a cookie's hash, if any.
func (db *DB) DeleteBrowserSession(ctx context.Context, hash []byte) error {
	return wrap("delete browser session", db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM browser_sessions WHERE hash = ?`, hash)
		return err
	}))
}
