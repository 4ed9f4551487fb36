package sqlrow

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/actas-dev/actas"
)

// TenantWriteCols are the tenants table's columns an update writes, in
// TenantArgs's order after the id.
var TenantWriteCols = []string{"name", "user_pool_id", "client_id", "endpoint_url", "settings", "created_at"}

// TenantCols is the tenants table's column list: id, then TenantWriteCols.
var TenantCols = "id, " + strings.Join(TenantWriteCols, ", ")

// ScanTenant scans a row of TenantCols.
func ScanTenant(row Scanner) (*actas.Tenant, error) {
	var r tenantRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.tenant()
}

// tenantRow is a row of TenantCols as scanned, before decoding.
type tenantRow struct {
	t        actas.Tenant
	settings string
	created  int64
}

func (r *tenantRow) dest() []any {
	return []any{&r.t.ID, &r.t.Name, &r.t.UserPoolID, &r.t.ClientID, &r.t.EndpointURL, &r.settings, &r.created}
}

func (r *tenantRow) tenant() (*actas.Tenant, error) {
	t := r.t
	var err error
	if t.Settings, err = decodeSettings(r.settings); err != nil {
		return nil, err
	}
	t.CreatedAt = FromMS(r.created)
	return &t, nil
}

// settingsSeen remembers the decoding of the settings texts read so far,
// up to settingsSeenMax of them: most tenants share a few (the defaults,
// a customer's template), and decoding one costs more than the rest of
// reading its tenant (~20 µs, json's reflection and a Duration parse per
// field). TenantSettings is a value without references, so a copy is the
// caller's own.
var settingsSeen struct {
	sync.Mutex
	m map[string]actas.TenantSettings
}

const settingsSeenMax = 256

func decodeSettings(text string) (actas.TenantSettings, error) {
	settingsSeen.Lock()
	s, ok := settingsSeen.m[text]
	settingsSeen.Unlock()
	if ok {
		return s, nil
	}
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return s, fmt.Errorf("decode settings: %w", err)
	}
	settingsSeen.Lock()
	if settingsSeen.m == nil || len(settingsSeen.m) >= settingsSeenMax {
		settingsSeen.m = make(map[string]actas.TenantSettings)
	}
	settingsSeen.m[text] = s
	settingsSeen.Unlock()
	return s, nil
}

// TenantKeysQuery selects the tenant whose user_pool_id is the query's
// one parameter (written p) with its signing keys less their private
// halves, one row a key, oldest first (as SigningKeys lists them). A
// tenant's first request on its public endpoints (JWKS, discovery, the
// sign-in page) needs both; this is one read instead of two, and the
// sealed private keys, which those endpoints never use, stay in the
// database. A tenant without keys has no row (CollectTenantKeys).
func TenantKeysQuery(p string) string {
	return `SELECT ` + Prefixed("t.", TenantCols) + `, ` + Prefixed("k.", signingKeyPublicCols) +
		` FROM tenants t JOIN signing_keys k ON k.tenant_id = t.id WHERE t.user_pool_id = ` + p +
		` ORDER BY k.created_at, k.kid`
}

// CollectTenantKeys reads the rows of TenantKeysQuery: the tenant, nil if
// there was no row, and its keys with PrivateEnc nil.
func CollectTenantKeys(rows Rows) (*actas.Tenant, []*actas.SigningKey, error) {
	var (
		t    *actas.Tenant
		keys []*actas.SigningKey
		tr   tenantRow
		kr   signingKeyRow
	)
	dest := append(tr.dest(), kr.dest(false)...)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		if t == nil { // the tenant's columns are the same on every row
			var err error
			if t, err = tr.tenant(); err != nil {
				return nil, nil, err
			}
		}
		k := kr.key()
		k.TenantID = t.ID
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return t, keys, nil
}

// TenantArgs returns the values of TenantCols for t; without its first
// (the id), those of TenantWriteCols.
func TenantArgs(t *actas.Tenant) ([]any, error) {
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return nil, err
	}
	return []any{t.ID, t.Name, t.UserPoolID, t.ClientID, t.EndpointURL, string(settings), MS(t.CreatedAt)}, nil
}
