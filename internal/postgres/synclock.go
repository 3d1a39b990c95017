package postgres

import (
	"context"
)

// syncLockKey names the session advisory lock that lets one replica at a
// time run the Graph sync (per schema, like the migration lock).
const syncLockKey = "hashtextextended('userlicenses/graph-sync/' || coalesce(current_schema(), ''), 0)"

// TrySyncLock takes the sync lock if no other replica holds it. The lock
// lives as long as its connection: a replica that dies releases it.
func (db *DB) TrySyncLock(ctx context.Context) (func(), bool, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, false, classify(err, "taking the sync lock")
	}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock("+syncLockKey+")").Scan(&got); err != nil {
		conn.Release()
		return nil, false, classify(err, "taking the sync lock")
	}
	if !got {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_unlock("+syncLockKey+")"); err != nil {
			// Closing the connection releases a session lock for sure.
			conn.Conn().Close(context.Background())
		}
		conn.Release()
	}, true, nil
}
