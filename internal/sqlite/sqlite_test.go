package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/sqlite"
	"github.com/cloudcockpit-oss/userlicenses/internal/storetest"
)

// openTemp opens a fresh database file in the test's temporary directory.
func openTemp(t *testing.T, cfg sqlite.Config) *sqlite.DB {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "licenses.db")
	}
	db, err := sqlite.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", cfg.Path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) licensing.Store { return openTemp(t, sqlite.Config{}) })
}
