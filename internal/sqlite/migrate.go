package sqlite

import (
	"context"
	"database/sql"
	"embed"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/migration"
)

// migrationFiles are the schema changes, named NNNN_what.sql; each is
// applied once, in order, and recorded in schema_migrations.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies the migrations not applied yet, all in one immediate
// transaction: two processes opening one new database (serve and seed)
// serialize here, and the second finds everything applied.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return licensing.Wrap(licensing.Internal, err, "reading the embedded migrations")
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return dbError(err, "starting the migrations")
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return dbError(err, "creating schema_migrations")
	}
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return dbError(err, "reading schema_migrations")
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return dbError(err, "reading schema_migrations")
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbError(err, "reading schema_migrations")
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return dbError(err, "applying migration "+m.Name)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, db.now().UnixNano()); err != nil {
			return dbError(err, "recording migration "+m.Name)
		}
	}
	if err := tx.Commit(); err != nil {
		return dbError(err, "committing the migrations")
	}
	return nil
}

// schemaVersion returns the highest applied migration, 0 for none.
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}
