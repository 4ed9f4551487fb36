package sqlrow

import "github.com/actas-dev/actas"

// GroupCols is the groups table's column list.
const GroupCols = `id, tenant_id, name, name_key, created_at`

// ScanGroup scans a row of GroupCols.
func ScanGroup(row Scanner) (*actas.Group, error) {
	var (
		g       actas.Group
		key     string
		created int64
	)
	if err := row.Scan(&g.ID, &g.TenantID, &g.Name, &key, &created); err != nil {
		return nil, err
	}
	g.CreatedAt = FromMS(created)
	return &g, nil
}

// GroupArgs returns the values of GroupCols for g.
func GroupArgs(g *actas.Group) []any {
	return []any{g.ID, g.TenantID, g.Name, actas.GroupKey(g.Name), MS(g.CreatedAt)}
}

// WithoutGroup returns groups without name, for DeleteGroup.
func WithoutGroup(groups []string, name string) []string {
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		if g != name {
			out = append(out, g)
		}
	}
	return out
}
