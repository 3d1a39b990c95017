package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudcockpit-oss/userlicenses/internal/groupcommit"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Group commit (issue 16): the fsync of each commit, not the work of an
// update, bounds how many updates one writer can make durable per second.
// So one goroutine owns the write path of updates (internal/groupcommit):
// it takes the update waiting first and every other one waiting at that
// moment (up to maxBatch), and commitBatch applies each under its own savepoint in one BEGIN IMMEDIATE
// transaction, and commits once. An update refused by the rules, or failing
// on its own, is rolled back to its savepoint and answered without touching
// the others; each caller learns its outcome only after the shared commit
// returned, so a nil error still means the change is durable.
//
// Statements run under the batch's own context, not a caller's: an
// interrupted statement can roll back the whole transaction, and one
// caller's deadline must not undo another's update. A caller whose context
// ends while waiting gets Unavailable; if its update was already in the
// batch it may still commit, which the contract allows for a 503 ("repeating
// is safe").

// maxBatch bounds one transaction: enough to amortise the fsync over the
// waiting updates, small enough to keep the batch's lock time short.
const maxBatch = 256

// batchTimeout bounds the work of one batch (its statements and commit).
const batchTimeout = 30 * time.Second

type update struct {
	ctx    context.Context
	ref    licensing.UserRef
	actor  licensing.Actor
	decide func(licensing.Seats) ([]licensing.Change, error)
	done   chan result
}

type result struct {
	changes []licensing.Change
	err     error
}

// startWriter starts the group-commit writer; stopWriter ends it.
func (db *DB) startWriter() { db.queue = groupcommit.Start(maxBatch, db.commitBatch) }

func (db *DB) stopWriter() { db.queue.Stop() }

// submit hands the update to the writer and waits for its outcome.
func (db *DB) submit(ctx context.Context, u *update) ([]licensing.Change, error) {
	u.done = make(chan result, 1)
	if err := db.queue.Submit(ctx, u); errors.Is(err, groupcommit.ErrStopped) {
		return nil, licensing.Errorf(licensing.Unavailable, "the store is closed")
	} else if err != nil {
		return nil, dbError(err, "waiting to apply an update")
	}
	select {
	case r := <-u.done:
		return r.changes, r.err
	case <-ctx.Done():
		// The update may still be committed: the outcome is unknown.
		return nil, dbError(ctx.Err(), "waiting for an update's commit")
	}
}

// commitBatch applies the updates in one transaction and answers each.
func (db *DB) commitBatch(batch []*update) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	answer := func(u *update, changes []licensing.Change, err error) { u.done <- result{changes, err} }
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		for _, u := range batch {
			answer(u, nil, dbError(err, "starting an update"))
		}
		return
	}
	defer db.writeStmts.preparePending(ctx) // runs after the rollback below
	defer tx.Rollback()
	q := inTx{tx, db.writeStmts}
	// The batch's statements run under a context that cannot be canceled:
	// with a cancelable one the driver starts a watching goroutine per
	// statement (about ten per update), which under load crowded the one
	// CPU the writer shares with the requests. The transaction itself was
	// begun under the batch's deadline, and database/sql rolls it back when
	// that passes, so no statement outlives it; a lock held by another
	// process is bounded by the busy timeout.
	ctx = context.WithoutCancel(ctx)
	var pending []*update
	var pendingChanges [][]licensing.Change
	for i, u := range batch {
		if err := u.ctx.Err(); err != nil {
			answer(u, nil, dbError(err, "waiting to apply an update"))
			continue
		}
		sp := fmt.Sprintf("u%d", i)
		if _, err := tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			db.failAll(batch[i:], pending, dbError(err, "starting an update"))
			return
		}
		changes, err := db.applyOne(ctx, q, u)
		if err != nil {
			// Undo this update alone; the others in the batch stand.
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO "+sp); rerr != nil {
				answer(u, nil, err)
				db.failAll(batch[i+1:], pending, dbError(rerr, "rolling back an update"))
				return
			}
		}
		if _, rerr := tx.ExecContext(ctx, "RELEASE "+sp); rerr != nil {
			answer(u, nil, err)
			db.failAll(batch[i+1:], pending, dbError(rerr, "releasing an update"))
			return
		}
		switch {
		case err != nil:
			answer(u, nil, err) // nothing of it was written
		case len(changes) == 0:
			answer(u, changes, nil) // nothing to commit
		default:
			pending = append(pending, u)
			pendingChanges = append(pendingChanges, changes)
		}
	}
	if len(pending) == 0 {
		return
	}
	if err := tx.Commit(); err != nil {
		db.failAll(nil, pending, dbError(err, "committing an update"))
		return
	}
	for i, u := range pending {
		answer(u, pendingChanges[i], nil)
	}
}

// applyOne is applyUpdate with a panic in decide turned into an error, so
// that one update cannot take the writer and the batch down.
func (db *DB) applyOne(ctx context.Context, q inTx, u *update) (changes []licensing.Change, err error) {
	defer func() {
		if r := recover(); r != nil {
			changes, err = nil, licensing.Wrap(licensing.Internal, fmt.Errorf("panic: %v", r), "applying an update")
		}
	}()
	return db.applyUpdate(ctx, q, u.ref, u.actor, u.decide)
}

// failAll answers the updates not yet applied and those applied but not
// committed with err: the transaction is rolled back, none of them holds.
func (db *DB) failAll(rest, pending []*update, err error) {
	for _, u := range rest {
		u.done <- result{nil, err}
	}
	for _, u := range pending {
		u.done <- result{nil, err}
	}
}
