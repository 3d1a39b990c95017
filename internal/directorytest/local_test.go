package directorytest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/directorytest"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres/pgtest"
	"github.com/cloudcockpit-oss/userlicenses/internal/sqlite"
)

func local(open func(t *testing.T) licensing.Store) directorytest.Factory {
	return func(t *testing.T, w directorytest.World) (licensing.Directory, func(uuid.UUID) licensing.UserRef) {
		s := open(t)
		t.Cleanup(func() { s.Close() })
		if err := s.Import(context.Background(), directorytest.LocalSnapshot(w)); err != nil {
			t.Fatal(err)
		}
		return s, directorytest.Ref
	}
}

func TestLocalDirectory_SQLite(t *testing.T) {
	directorytest.Run(t, local(func(t *testing.T) licensing.Store {
		s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "dir.db")})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}))
}

func TestLocalDirectory_PostgreSQL(t *testing.T) {
	pgtest.BaseURL(t) // skips, saying why, when no PostgreSQL is configured
	directorytest.Run(t, local(func(t *testing.T) licensing.Store {
		s, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.URL(t)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}))
}
