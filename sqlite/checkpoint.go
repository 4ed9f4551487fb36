package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// WAL checkpoints, off the commit path.
//
// By default SQLite checkpoints from inside the COMMIT that takes the WAL
// past 1,000 pages (wal_autocheckpoint): that commit copies the pages
// into the database file and fsyncs it before it returns, and with one
// write connection every write queued behind it waits too. Under load
// this was the tail of refresh latency (p99 of 40–85 ms where the median
// was 4 ms).
//
// The writer therefore runs with wal_autocheckpoint=0, and a goroutine
// owned by the DB checkpoints on a connection of its own:
//
//   - PASSIVE, at most every ckptEvery while this process writes (and
//     every ckptPoll otherwise, for other processes' writes). It runs
//     beside the writer and the readers and never waits for them; it
//     copies what no reader still needs.
//   - A PASSIVE checkpoint cannot make a continuously written WAL start
//     over: SQLite rewinds the WAL only when a write begins with every
//     frame already copied, and under load the next write always comes
//     first. So once the WAL holds restartFrames frames, the checkpointer
//     pauses this process's writes (groupCommit.pause: writes queue up and
//     then share one commit), runs a RESTART checkpoint, which has little
//     left to copy, and lets the writes go: the next one rewinds the WAL.
//     The pause costs about one fsync of the database file (2–12 ms on
//     this project's test machine under heavy writes), whatever the
//     size of the WAL, so restartFrames is large enough that it comes
//     seldom: 16 MiB of WAL, four times SQLite's default checkpoint
//     threshold.
//   - When this process has not written for idleAfter, TRUNCATE, so that
//     an idle database is a file with an empty WAL beside it.
//
// journal_size_limit truncates a WAL that a large transaction grew once
// it starts over. Durability does not change: commits still fsync the WAL
// (synchronous=FULL), and a checkpoint copies only committed frames and
// fsyncs the database file before the WAL may be reused. Readers see
// every checkpoint atomically, by SQLite's WAL protocol. Close stops the
// goroutine before closing the connections; the last connection to close
// checkpoints everything and deletes the WAL, as before.
const (
	ckptEvery     = 100 * time.Millisecond
	ckptPoll      = time.Second
	restartFrames = 4096 // 16 MiB at 4 KiB pages
	idleAfter     = time.Second

	// journalSizeLimit is what a WAL that starts over is truncated to,
	// if a large transaction grew it beyond.
	journalSizeLimit = 32 << 20

	// ckptBusyTimeout bounds how long a RESTART or TRUNCATE, with this
	// process's writes paused, waits for another process's write lock or
	// for a reader still reading old frames.
	ckptBusyTimeout = 100 * time.Millisecond
)

type checkpointer struct {
	db            *sql.DB       // one connection, used by run alone
	restartFrames atomic.Int64  // restartFrames; tests lower it
	wrote         chan struct{} // a commit happened (buffer of one; never blocks)
	stop          chan struct{}
	done          chan struct{}
	once          sync.Once // Close may be called more than once
}

// startCheckpointer opens the checkpoint connection on path and starts
// the goroutine.
func (db *DB) startCheckpointer(ctx context.Context, path string) error {
	conn, err := sql.Open("sqlite", fmt.Sprintf("%s?_pragma=busy_timeout(%d)", path, ckptBusyTimeout.Milliseconds()))
	if err != nil {
		return err
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	conn.SetConnMaxIdleTime(0)
	conn.SetConnMaxLifetime(0)
	if err := conn.PingContext(ctx); err != nil {
		_ = conn.Close()
		return err
	}
	c := &checkpointer{db: conn, wrote: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	c.restartFrames.Store(restartFrames)
	db.gc.ckpt = c
	go c.run(&db.gc)
	return nil
}

// committed tells the checkpointer that the writer committed.
func (c *checkpointer) committed() {
	if c == nil {
		return
	}
	select {
	case c.wrote <- struct{}{}:
	default:
	}
}

// close stops the goroutine and closes the connection.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	var err error
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		err = c.db.Close()
	})
	return err
}

func (c *checkpointer) run(gc *groupCommit) {
	defer close(c.done)
	var (
		lastWrite = time.Now()
		lastPoll  time.Time
		idle      bool // truncated since the last write
	)
	t := time.NewTicker(ckptEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		now, wrote := time.Now(), false
		select {
		case <-c.wrote:
			wrote, lastWrite, idle = true, now, false
		default:
		}
		switch {
		case wrote || now.Sub(lastPoll) >= ckptPoll:
			lastPoll = now
			if frames, err := c.checkpoint("PASSIVE"); err == nil && int64(frames) >= c.restartFrames.Load() {
				gc.paused(func() { _, _ = c.checkpoint("RESTART") })
			}
		case !idle && now.Sub(lastWrite) >= idleAfter:
			gc.paused(func() { _, _ = c.checkpoint("TRUNCATE") })
			idle = true
		}
	}
}

// checkpoint runs one checkpoint in mode and returns the number of frames
// in the WAL. Errors (SQLITE_BUSY from another process's checkpoint) only
// postpone the work to the next round.
func (c *checkpointer) checkpoint(mode string) (frames int, err error) {
	var busy, done int
	err = c.db.QueryRow("PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &done)
	return frames, err
}
