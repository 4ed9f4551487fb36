package main

import (
	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/httpapi"
	"github.com/actas-dev/actas/issuer"
	"github.com/actas-dev/actas/storeguard"
)

// guardStore returns the store serve's issuer uses: s behind a
// storeguard (the per-call deadline of store_timeout and the known-down
// state), so that a dead database costs a request at most the deadline
// and then nothing. Other commands use s as it is: an administrator's
// command may take as long as it needs.
func (m *Main) guardStore(g *globals, s actas.Store) actas.Store {
	if g.cfg == nil {
		return s
	}
	if m.WrapStore != nil {
		s = m.WrapStore(s)
	}
	return storeguard.Store(s, storeguard.Config{Timeout: g.cfg.StoreTimeout, Logger: g.log})
}

// writeCheck is the readiness check of writes (issuer.WriteProbe): not
// ready while the store cannot commit, ready again by itself once it can.
func writeCheck(e *env) httpapi.Check {
	p := &issuer.WriteProbe{Store: e.issuer.Store()}
	return httpapi.Check{Name: "database_writes", Fn: p.Check}
}
