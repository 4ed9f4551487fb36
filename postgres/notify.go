package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// RevocationsChanged implements actas.RevocationNotifier. The first call
// starts a listener on its own connection (LISTEN actas_revocations);
// every revocation transaction NOTIFYs that channel in the transaction
// itself, so a replica hears of another's revocation right after it
// commits and syncs then, typically within milliseconds, instead of at
// its next poll (at most one second later). The channel also receives
// after the listener (re)connects, because notifications sent while it
// was away are lost. On a database without NOTIFY (CockroachDB) the
// channel never receives and polling alone applies.
func (db *DB) RevocationsChanged() <-chan struct{} {
	db.listenOnce.Do(func() {
		if !db.notify {
			close(db.listenDone)
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		db.stopListen = cancel
		go db.listen(ctx)
	})
	return db.changed
}

func (db *DB) signal() {
	select {
	case db.changed <- struct{}{}:
	default: // a signal is pending already: one sync covers both
	}
}

// listenIdle is how long the listener waits for a notification before it
// checks that its connection still works.
const listenIdle = 30 * time.Second

func (db *DB) listen(ctx context.Context) {
	defer close(db.listenDone)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if err := db.listenConn(ctx); err == nil {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenConn connects, listens and relays notifications until the
// connection fails or ctx ends. It returns nil if it listened at all.
func (db *DB) listenConn(ctx context.Context) error {
	cctx, cancel := bound(ctx)
	conn, err := pgx.ConnectConfig(cctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		cancel()
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(cctx, `LISTEN `+revocationChannel)
	cancel()
	if err != nil {
		return err
	}
	db.signal() // whatever was notified while no one listened
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			db.signal()
		case ctx.Err() != nil:
			return nil
		case wctx.Err() != nil && !conn.IsClosed():
			// Idle: check that the connection still answers.
			pctx, cancel := bound(ctx)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return nil
			}
		default:
			return nil
		}
	}
}
