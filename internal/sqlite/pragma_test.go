package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestOpen_pragmasAreInForce asks SQLite itself, on both pools, because a
// misspelt DSN parameter would otherwise go unnoticed until a crash lost
// data.
func TestOpen_pragmasAreInForce(t *testing.T) {
	db, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "licenses.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"busy_timeout": "5000",
	}
	for name, pool := range map[string]*sql.DB{"write": db.write, "read": db.read} {
		for pragma, v := range want {
			var got string
			if err := pool.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s pool: PRAGMA %s: %v", name, pragma, err)
			}
			if got != v {
				t.Errorf("%s pool: PRAGMA %s = %s, want %s", name, pragma, got, v)
			}
		}
	}
	// The writer's savepoint journals (one savepoint per update of a
	// group-commit batch) are kept in memory: on a temp file they were a
	// pwrite per page, a fifth of the changing PATCH's CPU.
	var tempStore string
	if err := db.write.QueryRowContext(t.Context(), "PRAGMA temp_store").Scan(&tempStore); err != nil || tempStore != "2" {
		t.Errorf("write pool: temp_store = %s (%v), want 2 (MEMORY)", tempStore, err)
	}
	var readOnly string
	if err := db.read.QueryRowContext(t.Context(), "PRAGMA query_only").Scan(&readOnly); err != nil || readOnly != "1" {
		t.Errorf("read pool: query_only = %s (%v), want 1", readOnly, err)
	}
	// The write pool begins IMMEDIATE: a transaction holds the write lock
	// from its first statement, so a second connection cannot start one.
	tx, err := db.write.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(t.Context(), "SELECT count(*) FROM tenants").Scan(&n); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", db.path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err == nil {
		t.Error("another connection took the write lock while a write transaction was open: it did not begin IMMEDIATE")
	}
}
