package postgres_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/actas-dev/actas"
	"github.com/actas-dev/actas/postgres"
)

// TestUnavailableCodes: the SQLSTATEs of faults that may pass (the
// connection, resources such as a full disk, shutdown and recovery, a
// read-only standby, I/O) are 503s; errors of the data stay what they are.
func TestUnavailableCodes(t *testing.T) {
	for code, want := range map[string]bool{
		"08006": true,                  // connection_failure
		"08001": true,                  // sqlclient_unable_to_establish_sqlconnection
		"53100": true,                  // disk_full
		"53200": true,                  // out_of_memory
		"53300": true,                  // too_many_connections
		"57P01": true,                  // admin_shutdown
		"57P03": true,                  // cannot_connect_now: starting up or in recovery
		"25006": true,                  // read_only_sql_transaction: a hot standby
		"58030": true,                  // io_error
		"57014": true,                  // query_canceled
		"40001": true,                  // serialization_failure, after the retries
		"23505": false, "23503": false, // constraints: conflict, not found
		"42P01": false, // undefined_table: a bug or a missing migration
		"22001": false, // string_data_right_truncation
		"XX000": false, // internal_error
	} {
		if got := postgres.UnavailableCode(code); got != want {
			t.Errorf("UnavailableCode(%s) = %v, want %v", code, got, want)
		}
	}
}

// TestReadOnlyDatabaseIsUnavailable: on a database that refuses writes as
// a hot standby or a database in recovery does (real SQLSTATE 25006 from
// default_transaction_read_only), every write and the readiness probe
// fail with ErrUnavailable while reads still work.
func TestReadOnlyDatabaseIsUnavailable(t *testing.T) {
	dsn := freshSchema(t)
	rw := mustOpen(t, dsn)
	defer rw.Close()
	ctx := t.Context()
	tn := &actas.Tenant{ID: actas.NewID(), Name: "acme", UserPoolID: actas.NewUserPoolID(""),
		ClientID: actas.NewClientID(), Settings: actas.DefaultTenantSettings(), CreatedAt: time.Now()}
	if err := rw.CreateTenant(ctx, tn, nil, nil); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("default_transaction_read_only", "on")
	u.RawQuery = q.Encode()
	ro := mustOpen(t, u.String())
	defer ro.Close()
	if err := ro.ProbeWrite(ctx, time.Now()); !errors.Is(err, actas.ErrUnavailable) {
		t.Errorf("probe write on a read-only database = %v, want ErrUnavailable", err)
	}
	if _, err := ro.UpdateTenant(ctx, tn.ID, func(*actas.Tenant) error { return nil }); !errors.Is(err, actas.ErrUnavailable) {
		t.Errorf("write on a read-only database = %v, want ErrUnavailable", err)
	}
	if _, err := ro.Tenant(ctx, tn.ID); err != nil {
		t.Errorf("read on a read-only database: %v", err)
	}
	if err := rw.ProbeWrite(ctx, time.Now()); err != nil {
		t.Errorf("probe write on the writable connection: %v", err)
	}
}

// TestOpenBlackHoleIsBounded: a database host that accepts connections
// and never answers (packets dropped further on) costs Open the default
// 2 s connect timeout, not more; connect_timeout in the DSN overrides it.
func TestOpenBlackHoleIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent
		}
	}()
	for _, c := range []struct {
		dsn      string
		min, max time.Duration
	}{
		{"postgres://postgres@" + ln.Addr().String() + "/x?sslmode=disable", 1900 * time.Millisecond, 3 * time.Second},
		{"postgres://postgres@" + ln.Addr().String() + "/x?sslmode=disable&connect_timeout=1", 900 * time.Millisecond, 1900 * time.Millisecond},
	} {
		start := time.Now()
		_, err := postgres.Open(context.Background(), c.dsn)
		took := time.Since(start)
		if !errors.Is(err, actas.ErrUnavailable) {
			t.Errorf("Open on a black hole: %v, want ErrUnavailable", err)
		}
		if took < c.min || took > c.max {
			t.Errorf("Open on a black hole (%s) took %v, want %v to %v", c.dsn[strings.Index(c.dsn, "?"):], took, c.min, c.max)
		}
	}
}
