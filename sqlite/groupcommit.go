package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Group commit.
//
// With synchronous=FULL every COMMIT waits for an fsync of the WAL, and
// with one write connection commits are serialised: a write transaction
// costs about one fsync (~0.5–1 ms on common disks), which caps writes —
// and so refreshes, sign-ins and expires — near 1,000 a second whatever
// the CPU. Group commit runs the write transactions that arrive while
// another is committing together, each inside a SAVEPOINT of one
// transaction, and commits them with a single fsync. Durability does not
// change: write returns to its caller only after the COMMIT that contains
// its changes has returned, so "durable before 200" holds exactly as it
// did; only the fsync is shared.
//
// Each caller's fn runs in its own savepoint: an error from fn rolls back
// that fn's changes only, and is returned to that caller alone, as if its
// own transaction had been rolled back. If the shared transaction itself
// fails (a savepoint cannot be released, an interrupted statement rolled
// the whole transaction back, COMMIT fails), it is rolled back and every
// member whose outcome is not yet settled runs again alone, in its own
// transaction, exactly as without group commit. fn may therefore run more
// than once, but its effects are committed at most once; the store's
// write functions only assign (never accumulate into) outer variables, so
// a rerun leaves them as a single run would.
//
// There is no background goroutine: the first caller to find the writer
// idle leads, running batches until its own request is settled, then
// hands the lead to the first caller still waiting.

// maxGroup bounds a batch, so that one commit's latency stays bounded.
const maxGroup = 128

type commitReq struct {
	ctx    context.Context
	fn     func(*sql.Tx) error
	err    error
	done   bool          // settled: err is final (set by the leader)
	leader bool          // appointed to lead (set before wake is closed)
	wake   chan struct{} // closed when settled or appointed
}

type groupCommit struct {
	mu    sync.Mutex
	queue []*commitReq
	busy  bool // a leader is running

	// pause is held by the leader while it runs a batch, and by the
	// checkpointer while writes must wait (paused). Writes arriving
	// meanwhile queue up and then share one commit.
	pause sync.Mutex
	ckpt  *checkpointer // told of every commit (checkpoint.go)

	stmts stmtCache // prepared statements of the hot paths (stmtcache.go)
}

// do runs fn in a write transaction, grouped with concurrent callers'.
func (g *groupCommit) do(ctx context.Context, db *DB, fn func(*sql.Tx) error) error {
	r := &commitReq{ctx: ctx, fn: fn, wake: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, r)
	if g.busy {
		g.mu.Unlock()
		<-r.wake
		if !r.leader {
			return r.err
		}
	} else {
		g.busy = true
		g.mu.Unlock()
	}
	return g.lead(db, r)
}

// lead runs batches from the queue until self is settled, then passes the
// lead on.
func (g *groupCommit) lead(db *DB, self *commitReq) error {
	for {
		g.pause.Lock()
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		batch := make([]*commitReq, n)
		copy(batch, g.queue)
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()

		db.runGroup(batch)
		g.pause.Unlock()
		g.ckpt.committed()
		for _, m := range batch {
			if m != self {
				close(m.wake)
			}
		}
		if self.done {
			g.mu.Lock()
			if len(g.queue) > 0 {
				next := g.queue[0]
				next.leader = true
				close(next.wake)
			} else {
				g.busy = false
			}
			g.mu.Unlock()
			return self.err
		}
	}
}

// paused runs fn while no write transaction is open or can begin in this
// process.
func (g *groupCommit) paused(fn func()) {
	g.pause.Lock()
	defer g.pause.Unlock()
	fn()
}

// runGroup settles every member of batch.
func (db *DB) runGroup(batch []*commitReq) {
	if len(batch) == 1 {
		r := batch[0]
		r.err, r.done = db.writeOne(r.ctx, r.fn), true
		return
	}
	if db.tryGroup(batch) {
		return
	}
	for _, r := range batch {
		if !r.done {
			r.err, r.done = db.writeOne(r.ctx, r.fn), true
		}
	}
}

// tryGroup runs batch in one transaction. It reports false if the shared
// transaction failed; members settled by then (by their own fn's error,
// rolled back to their savepoint) stay settled, the others are not.
func (db *DB) tryGroup(batch []*commitReq) bool {
	// Prepared before the transaction (see stmtcache.go): parsing these
	// on every member cost the writer more than the work itself.
	const savepoint, rollbackTo, release = "SAVEPOINT group_member", "ROLLBACK TO group_member", "RELEASE group_member"
	bg := context.Background()
	spStmt, rbStmt, relStmt := db.prepared(bg, db.w, savepoint), db.prepared(bg, db.w, rollbackTo), db.prepared(bg, db.w, release)
	tx, err := db.w.BeginTx(bg, nil)
	if err != nil {
		return false
	}
	var ok []*commitReq
	fail := func() bool {
		_ = tx.Rollback()
		return false
	}
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err, r.done = err, true
			continue
		}
		if _, err := txExec(bg, tx, spStmt, savepoint); err != nil {
			return fail()
		}
		if ferr := call(r.fn, tx); ferr != nil {
			if _, err := txExec(bg, tx, rbStmt, rollbackTo); err != nil {
				return fail()
			}
			if _, err := txExec(bg, tx, relStmt, release); err != nil {
				return fail()
			}
			r.err, r.done = ferr, true
			continue
		}
		if _, err := txExec(bg, tx, relStmt, release); err != nil {
			return fail()
		}
		ok = append(ok, r)
	}
	if err := tx.Commit(); err != nil {
		return false
	}
	for _, r := range ok {
		r.err, r.done = nil, true
	}
	return true
}

// writeOne runs fn in a transaction of its own and commits it, returning
// fn's error as is. BEGIN IMMEDIATE takes the file's write lock before fn
// reads anything.
func (db *DB) writeOne(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := call(fn, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// call runs fn, turning a panic into an error. fn is a caller's closure
// run on the leader's goroutine: a panic there must neither unwind
// another request nor leave the writer's transaction open, which would
// stop every later write.
func call(fn func(*sql.Tx) error, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write callback panicked: %v", p)
		}
	}()
	return fn(tx)
}
