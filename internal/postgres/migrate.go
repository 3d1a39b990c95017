package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cloudcockpit-oss/userlicenses/internal/migration"
)

// migrationFiles holds the schema, one numbered file per step
// (0001_init.sql, 0002_….sql). A file, once released, is never edited:
// changes go into a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate applies the embedded migrations the database lacks, each
// recorded in schema_migrations, in the schema the connection's
// search_path selects. It is safe to call from several replicas at once:
// the whole run holds a transaction-scoped advisory lock keyed by the
// schema, so one replica migrates while the others wait and then find
// nothing left to do; a failing step rolls every step of the run back.
// Open calls it unless Config.SkipMigrations is set; licensesd migrate
// calls it on its own.
func (db *DB) Migrate(ctx context.Context) error {
	all, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return classify(err, "read the embedded migrations")
	}
	err = db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// Waiting for another replica's migration may take longer than one
		// statement may; the caller's context bounds the whole run instead.
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx,
			"SELECT pg_advisory_xact_lock(hashtextextended('userlicenses/migrate/' || coalesce(current_schema(), ''), 0))"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    text PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range all {
			if applied[m.ID()] {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.ID(), m.Name); err != nil {
				return err
			}
		}
		return nil
	})
	return classify(err, "migrate the database schema")
}

// Pending returns the versions of the embedded migrations the database
// lacks, in order; all of them when it was never migrated.
func (db *DB) Pending(ctx context.Context) ([]string, error) {
	all, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return nil, classify(err, "read the embedded migrations")
	}
	var applied map[string]bool
	err = db.retry(ctx, func(ctx context.Context) error {
		var err error
		applied, err = appliedVersions(ctx, db.pool)
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == "42P01" { // undefined_table: never migrated
			applied, err = map[string]bool{}, nil
		}
		return err
	})
	if err != nil {
		return nil, classify(err, "read the applied migrations")
	}
	var pending []string
	for _, m := range all {
		if !applied[m.ID()] {
			pending = append(pending, m.ID())
		}
	}
	return pending, nil
}

// querier is what a pool, a connection and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func appliedVersions(ctx context.Context, q querier) (map[string]bool, error) {
	rows, err := q.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	applied := make(map[string]bool, len(versions))
	for _, v := range versions {
		applied[v] = true
	}
	return applied, nil
}
