package postgres_test

import (
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres/pgtest"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
)

// TestStore runs the contract every licensing.Store passes, each subtest
// on a fresh schema of its own.
func TestStore(t *testing.T) {
	pgtest.BaseURL(t) // skip, saying why, before the suite's subtests start
	storetest.Run(t, func(t *testing.T) licensing.Store {
		return open(t, pgtest.URL(t))
	})
}
