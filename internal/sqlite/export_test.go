package sqlite

import (
	"context"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// UsersUncached is Users without the read cache, so that the benchmark of
// the list statements measures them and not the cache.
func (db *DB) UsersUncached(ctx context.Context, tenant string, customerID uuid.UUID, q licensing.UserQuery) (licensing.UserPage, error) {
	return db.users(ctx, tenant, customerID, q)
}
