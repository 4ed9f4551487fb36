package issuer

import (
	"context"
	"errors"
	"slices"

	"github.com/actas-dev/actas"
)

// Groups are records of a tenant (SPEC §7). The default groups, admin and
// impersonator, exist in every tenant: the migration created them for the
// tenants it found, and they are created on first use for later ones.

// ensureDefaultGroups creates the tenant's default groups if missing.
func (i *Issuer) ensureDefaultGroups(ctx context.Context, t *actas.Tenant) error {
	_, err := i.store.EnsureGroups(ctx, t.ID, actas.DefaultGroups, i.now())
	return wrap("create default groups", err)
}

// TenantGroups lists a tenant's groups with their member counts.
func (i *Issuer) TenantGroups(ctx context.Context, t *actas.Tenant) ([]*actas.Group, error) {
	if err := i.ensureDefaultGroups(ctx, t); err != nil {
		return nil, err
	}
	gs, err := i.store.Groups(ctx, t.ID)
	return gs, wrap("list groups", err)
}

// ListGroups is GET /security/groups.
func (i *Issuer) ListGroups(ctx context.Context, c *Caller) ([]*actas.Group, error) {
	if err := authorize(c, "", false); err != nil {
		return nil, err
	}
	return i.TenantGroups(ctx, c.Client.Tenant)
}

// createGroup stores a new group with ev (nil: none).
func (i *Issuer) createGroup(ctx context.Context, t *actas.Tenant, name string, ev *actas.AuditEvent) (*actas.Group, error) {
	if !actas.ValidGroupName(name) {
		return nil, errBadGroupName
	}
	if err := i.ensureDefaultGroups(ctx, t); err != nil {
		return nil, err
	}
	g := &actas.Group{ID: actas.NewID(), TenantID: t.ID, Name: name, CreatedAt: i.now()}
	if ev != nil {
		ev.Details = "group: " + name
	}
	if err := i.store.CreateGroup(ctx, g, ev); errors.Is(err, actas.ErrConflict) {
		return nil, errGroupExists
	} else if err != nil {
		return nil, wrap("create group", err)
	}
	return g, nil
}

// CreateGroupBy is POST /security/groups.
func (i *Issuer) CreateGroupBy(ctx context.Context, c *Caller, name string) (*actas.Group, error) {
	if err := authorize(c, "", false); err != nil {
		return nil, i.denied(ctx, c, actas.ActionGroupCreate, "", "", err)
	}
	g, err := i.createGroup(ctx, c.Client.Tenant, name, i.auditEvent(c, actas.ActionGroupCreate, "", ""))
	if err != nil && actas.ErrorCode(err) != actas.EINTERNAL && actas.ErrorCode(err) != actas.EUNAVAILABLE {
		return nil, i.denied(ctx, c, actas.ActionGroupCreate, "", "", err)
	}
	return g, err
}

// deleteGroup deletes a group by id, taking it off every user, with ev.
func (i *Issuer) deleteGroup(ctx context.Context, t *actas.Tenant, id string, ev *actas.AuditEvent) error {
	if !actas.ValidID(id) {
		return errGroupNotFound
	}
	g, err := i.store.Group(ctx, t.ID, id)
	if errors.Is(err, actas.ErrNotFound) {
		return errGroupNotFound
	} else if err != nil {
		return wrap("find group", err)
	}
	if slices.Contains(actas.DefaultGroups, actas.GroupKey(g.Name)) {
		return errDefaultGroup
	}
	ev.Details = "group: " + g.Name
	if err := i.store.DeleteGroup(ctx, t.ID, id, ev); errors.Is(err, actas.ErrNotFound) {
		return errGroupNotFound
	} else if err != nil {
		return wrap("delete group", err)
	}
	return nil
}

// DeleteGroupBy is DELETE /security/groups/{id}.
func (i *Issuer) DeleteGroupBy(ctx context.Context, c *Caller, id string) error {
	if err := authorize(c, "", false); err != nil {
		return i.denied(ctx, c, actas.ActionGroupDelete, "", "", err)
	}
	err := i.deleteGroup(ctx, c.Client.Tenant, id, i.auditEvent(c, actas.ActionGroupDelete, "", ""))
	if code := actas.ErrorCode(err); err != nil && code != actas.EINTERNAL && code != actas.EUNAVAILABLE {
		return i.denied(ctx, c, actas.ActionGroupDelete, "", "", err)
	}
	return err
}

// CreateGroup is actas group create: an operator on the database host.
func (i *Issuer) CreateGroup(ctx context.Context, tenant, name string) (*actas.Group, error) {
	t, err := i.TenantByName(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return i.createGroup(ctx, t, name, &actas.AuditEvent{Time: i.now(), TenantID: t.ID,
		Action: actas.ActionGroupCreate, Outcome: actas.OutcomeAllowed})
}

// DeleteGroup is actas group delete NAME.
func (i *Issuer) DeleteGroup(ctx context.Context, tenant, name string) error {
	t, err := i.TenantByName(ctx, tenant)
	if err != nil {
		return err
	}
	g, err := i.store.GroupByName(ctx, t.ID, name)
	if errors.Is(err, actas.ErrNotFound) {
		return actas.Errorf(actas.ENOTFOUND, "tenant %q has no group %q", tenant, name)
	} else if err != nil {
		return wrap("find group", err)
	}
	return i.deleteGroup(ctx, t, g.ID, &actas.AuditEvent{Time: i.now(), TenantID: t.ID,
		Action: actas.ActionGroupDelete, Outcome: actas.OutcomeAllowed})
}

// EnsureGroupNames returns the record names of groups for the command
// line, creating the missing ones (SPEC §10: user groups add of a group
// that does not exist creates it).
func (i *Issuer) EnsureGroupNames(ctx context.Context, t *actas.Tenant, names []string) ([]string, error) {
	for _, n := range names {
		if !actas.ValidGroupName(n) {
			return nil, actas.Errorf(actas.EINVALID, "invalid group name %q: use 1-%d printable characters", n, actas.MaxGroupLen)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	gs, err := i.store.EnsureGroups(ctx, t.ID, names, i.now())
	if err != nil {
		return nil, wrap("ensure groups", err)
	}
	out := make([]string, len(gs))
	for k, g := range gs {
		out[k] = g.Name
	}
	return out, nil
}

// GroupIDs returns the ids of the tenant's groups named names, in order
// (one indexed read each); a name without a record is skipped.
func (i *Issuer) GroupIDs(ctx context.Context, t *actas.Tenant, names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		g, err := i.store.GroupByName(ctx, t.ID, n)
		if errors.Is(err, actas.ErrNotFound) {
			if slices.Contains(actas.DefaultGroups, n) {
				if g, err = i.findGroup(ctx, t, "", n); err != nil {
					return nil, err
				}
				out = append(out, g.ID)
			}
			continue
		} else if err != nil {
			return nil, wrap("find group", err)
		}
		out = append(out, g.ID)
	}
	return out, nil
}
