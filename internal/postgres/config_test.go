package postgres_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres"
	"github.com/cloudcockpit-oss/userlicenses/internal/postgres/pgtest"
)

func TestOpen_connectTimeoutIsHonored(t *testing.T) {
	// A server that accepts and then says nothing, as a half-dead host
	// behind a load balancer would: only the connect timeout ends the wait.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	started := time.Now()
	_, err = postgres.Open(ctx, postgres.Config{URL: "postgres://postgres@" + ln.Addr().String() + "/test?sslmode=disable",
		ConnectTimeout: 300 * time.Millisecond})
	if licensing.ErrorCode(err) != licensing.Unavailable {
		t.Fatalf("err = %v, want Unavailable", err)
	}
	if d := time.Since(started); d > 5*time.Second {
		t.Fatalf("Open gave up after %v; the connect timeout is 300ms", d)
	}
}

func TestOpen_statementTimeoutIsSetOnEveryConnection(t *testing.T) {
	db := open(t, pgtest.URL(t), func(c *postgres.Config) {
		c.StatementTimeout = 150 * time.Millisecond
		c.MaxConns = 3
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Hold all connections at once, so that each one is checked.
	for range 3 {
		conn, err := db.Pool().Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		var v string
		if err := conn.QueryRow(ctx, "SHOW statement_timeout").Scan(&v); err != nil || v != "150ms" {
			t.Fatalf("statement_timeout = %q, %v; want 150ms", v, err)
		}
		_, err = conn.Exec(ctx, "SELECT pg_sleep(2)")
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != "57014" {
			t.Fatalf("a 2s statement: %v, want it cancelled by statement_timeout (57014)", err)
		}
	}
}
