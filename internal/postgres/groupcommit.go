package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloudcockpit-oss/userlicenses/internal/groupcommit"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Group commit (issue 16), as in the SQLite store: one goroutine per
// process (internal/groupcommit) takes the update waiting first and every other one waiting at
// that moment (up to maxBatch) and applies them in one READ COMMITTED
// transaction (applyInTx), with one commit and so one WAL flush for all
// of them. Each caller is
// answered after that commit returned, so a nil error still means durable.
//
// An update refused by the rules (or naming something that does not
// exist) has written nothing, for every write of an update comes after its
// decision, and is answered with its refusal; the others of the batch
// stand. No update needs a savepoint of its own: any other failure (a deadlock with another replica's batch, a
// serialization failure, a lost connection) fails the attempt, and the
// whole batch is retried like a single update would be (db.retry): nothing
// of a failed attempt was committed. Statements run under the batch's own
// context, so that one caller's deadline cannot abort the others' work; a
// caller whose deadline passes while its update is queued or in flight is
// answered Unavailable, and its update may still commit (the contract's
// "repeating is safe").

const (
	maxBatch     = 256
	batchTimeout = 30 * time.Second
)

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

func (db *DB) startWriter() { db.queue = groupcommit.Start(maxBatch, db.commitBatch) }

func (db *DB) stopWriter() { db.queue.Stop() }

func (db *DB) submit(ctx context.Context, u *update) ([]licensing.Change, error) {
	u.done = make(chan result, 1)
	if err := db.queue.Submit(ctx, u); errors.Is(err, groupcommit.ErrStopped) {
		return nil, licensing.Errorf(licensing.Unavailable, "the store is closed")
	} else if err != nil {
		return nil, classify(err, "wait to update the user's licenses")
	}
	select {
	case r := <-u.done:
		return r.changes, r.err
	case <-ctx.Done():
		return nil, classify(ctx.Err(), "wait for the update's commit")
	}
}

// refusal reports whether err is an update's own answer (the rules said
// no, or what it names does not exist), which leaves the batch standing.
func refusal(err error) (error, bool) {
	var refused *decisionError
	if errors.As(err, &refused) {
		return refused.err, true
	}
	var de *licensing.Error
	if errors.As(err, &de) && (de.Code == licensing.NotFound || de.Code == licensing.Invalid) {
		return err, true
	}
	return nil, false
}

func (db *DB) commitBatch(batch []*update) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	outcomes := make([]result, len(batch))
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var records []licensing.AuditRecord // of the updates applied
		// The statements an update leaves to be sent with the next round
		// trip (applyInTx); an outcome set below stands only once they, and
		// the commit, have succeeded: any failure fails the attempt whole.
		var carry pgx.Batch
		for i, u := range batch {
			if err := u.ctx.Err(); err != nil {
				outcomes[i] = result{nil, classify(err, "wait to update the user's licenses")}
				continue
			}
			changes, rs, err := db.applyOne(ctx, tx, &carry, u)
			if err != nil {
				if answer, ok := refusal(err); ok {
					outcomes[i] = result{nil, answer} // it wrote nothing
					continue
				}
				return err // the attempt fails whole and may be retried
			}
			records = append(records, rs...)
			outcomes[i] = result{changes, nil}
		}
		// The last update's writes and the batch's audit records (one
		// statement) in one round trip, before the commit.
		if err := queueAudit(&carry, records); err != nil || carry.Len() == 0 {
			return err
		}
		return tx.SendBatch(ctx, &carry).Close()
	})
	if err != nil {
		err = classify(err, "update the user's licenses")
		for i := range outcomes {
			outcomes[i] = result{nil, err}
		}
	}
	for i, u := range batch {
		u.done <- outcomes[i]
	}
}

// applyOne is applyInTx with a panic in decide turned into an error.
func (db *DB) applyOne(ctx context.Context, tx pgx.Tx, carry *pgx.Batch, u *update) (changes []licensing.Change, records []licensing.AuditRecord, err error) {
	defer func() {
		if r := recover(); r != nil {
			changes, records, err = nil, nil, licensing.Wrap(licensing.Internal, fmt.Errorf("panic: %v", r), "applying an update")
		}
	}()
	ref := u.ref
	ref.Tenant = licensing.NormalizeTenant(ref.Tenant)
	return db.applyInTx(ctx, tx, carry, ref, u.actor, u.decide)
}
