package sqlrow

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/actas-dev/actas"
)

// TenantWriteCols are the tenants table's columns an update writes, in
// TenantArgs's order after the id.
var TenantWriteCols = []string{"name", "user_pool_id", "client_id", "endpoint_url", "settings", "created_at"}

// TenantCols is the tenants table's column list: id, then TenantWriteCols.
var TenantCols = "id, " + strings.Join(TenantWriteCols, ", ")

// ScanTenant scans a row of TenantCols.
func ScanTenant(row Scanner) (*actas.Tenant, error) {
	var (
		t        actas.Tenant
		settings string
		created  int64
	)
	if err := row.Scan(&t.ID, &t.Name, &t.UserPoolID, &t.ClientID, &t.EndpointURL, &settings, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
		return nil, fmt.Errorf("decode settings: %w", err)
	}
	t.CreatedAt = FromMS(created)
	return &t, nil
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
