package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
)

// enterRead waits for a place among the readers and returns the context
// its statements run under and the function that gives the place back.
//
// There are as many places as read connections, so database/sql's pool
// never has a waiter: its waiters get a freed connection in random order
// (database/sql's connRequestSet.TakeRandom), so under load a request could
// wait behind any number of later ones. Waiters on a channel are served in
// order.
//
// The statements' context cannot be canceled. With a cancelable one,
// database/sql starts a goroutine per transaction and per result set, and
// the driver one per statement, each only to watch for the cancellation.
// With GOMAXPROCS=1 at 64 connections hundreds of them waited to start at
// any moment (bench/NOTES.md), and requests woken by the network queued
// behind them: users list, search and audit pages had p99s of 0.3–2 s
// while their p50 stayed at 5–12 ms. The request's own context is still
// honoured while waiting here and checked again by the callers between
// statements; every read statement is bounded by an index or by one
// customer's rows, so it cannot run on for long after a client has gone.
func (db *DB) enterRead(ctx context.Context) (context.Context, func(), error) {
	// select picks at random among ready cases: a request gone already
	// would otherwise be served whenever a place is free.
	if err := ctx.Err(); err != nil {
		return nil, nil, dbError(err, "waiting for a read connection")
	}
	select {
	case db.readGate <- struct{}{}:
		return context.WithoutCancel(ctx), db.leaveRead, nil
	case <-ctx.Done():
		return nil, nil, dbError(ctx.Err(), "waiting for a read connection")
	}
}

func (db *DB) leaveRead() { <-db.readGate }

// snapshot is one read connection inside BEGIN … ROLLBACK, so that a page
// and its total read the same state, holding a reader's place. It is a
// plain connection rather than a *sql.Tx: database/sql gives every Tx a
// cancelable context of its own, and with it a goroutine for the Tx and one
// more per result set (see enterRead for why that matters).
type snapshot struct {
	*sql.Conn
	leave func()
}

// beginSnapshot enters the readers (enterRead) and starts a snapshot; its
// statements run under the context it returns.
func (db *DB) beginSnapshot(ctx context.Context, what string) (context.Context, snapshot, error) {
	sctx, leave, err := db.enterRead(ctx)
	if err != nil {
		return nil, snapshot{}, err
	}
	c, err := db.read.Conn(sctx)
	if err != nil {
		leave()
		return nil, snapshot{}, dbError(err, what)
	}
	if _, err := c.ExecContext(sctx, `BEGIN`); err != nil {
		discard(c)
		leave()
		return nil, snapshot{}, dbError(err, what)
	}
	return sctx, snapshot{c, leave}, nil
}

// end gives the connection back outside any transaction, or, when the
// rollback fails, closes it so that no later reader finds it inside one;
// then it gives the reader's place back.
func (s snapshot) end() {
	defer s.leave()
	if _, err := s.ExecContext(context.Background(), `ROLLBACK`); err != nil {
		discard(s.Conn)
		return
	}
	s.Close()
}

// discard closes c and tells the pool not to reuse its connection.
func discard(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	c.Close()
}
