package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

func TestClassify_mapsDatabaseErrorsToDomainCodes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want licensing.Code
	}{
		{"domainErrorPassesThrough", licensing.Errorf(licensing.NotFound, "x"), licensing.NotFound},
		{"connectionRefused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), licensing.Unavailable},
		{"connectionReset", fmt.Errorf("read: %w", syscall.ECONNRESET), licensing.Unavailable},
		{"connectionLost", io.ErrUnexpectedEOF, licensing.Unavailable},
		{"connClosed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), licensing.Unavailable},
		{"deadline", fmt.Errorf("acquire: %w", context.DeadlineExceeded), licensing.Unavailable},
		{"serverShuttingDown", &pgconn.PgError{Code: "57P01"}, licensing.Unavailable},
		{"tooManyConnections", &pgconn.PgError{Code: "53300"}, licensing.Unavailable},
		{"statementTimeout", &pgconn.PgError{Code: "57014"}, licensing.Unavailable},
		{"deadlockAfterEveryRetry", &pgconn.PgError{Code: "40P01"}, licensing.Unavailable},
		{"uniqueViolationIsABug", &pgconn.PgError{Code: "23505"}, licensing.Internal},
		{"syntaxErrorIsABug", &pgconn.PgError{Code: "42601"}, licensing.Internal},
		{"anythingElse", errors.New("boom"), licensing.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify(tt.err, "test")
			if got := licensing.ErrorCode(err); got != tt.want {
				t.Fatalf("classify(%v) = %v, want %s", tt.err, err, tt.want)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("classify(%v) lost the cause: %v", tt.err, err)
			}
		})
	}
}

func TestRetry_conflictsAreRetriedABoundedNumberOfTimes(t *testing.T) {
	db := &DB{maxAttempts: 5}
	for _, code := range []string{"40001", "40P01"} {
		calls := 0
		err := db.retry(t.Context(), func(context.Context) error {
			calls++
			if calls < 3 {
				return &pgconn.PgError{Code: code}
			}
			return nil
		})
		if err != nil || calls != 3 {
			t.Fatalf("%s twice then success: %v after %d calls, want success after 3", code, err, calls)
		}
		calls = 0
		err = db.retry(t.Context(), func(context.Context) error {
			calls++
			return &pgconn.PgError{Code: code}
		})
		if !isConflict(err) || calls != 5 {
			t.Fatalf("%s forever: %v after %d calls, want the conflict after 5", code, err, calls)
		}
	}
}

func TestRetry_lostConnectionIsRetriedOnceButNeverAfterCommit(t *testing.T) {
	db := &DB{maxAttempts: 5}
	calls := 0
	err := db.retry(t.Context(), func(context.Context) error {
		calls++
		return io.ErrUnexpectedEOF
	})
	if calls != 2 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("lost connection: %v after %d calls, want 2 calls", err, calls)
	}
	calls = 0
	err = db.retry(t.Context(), func(context.Context) error {
		calls++
		return fmt.Errorf("%w: %w", errCommitUnknown, io.ErrUnexpectedEOF)
	})
	if calls != 1 || licensing.ErrorCode(classify(err, "commit")) != licensing.Unavailable {
		t.Fatalf("lost while committing: %v after %d calls, want 1 call and Unavailable", err, calls)
	}
}

func TestRetry_refusedDecisionIsNotRetried(t *testing.T) {
	db := &DB{maxAttempts: 5}
	calls := 0
	refusal := licensing.Errorf(licensing.Invalid, "no seats")
	err := db.retry(t.Context(), func(context.Context) error {
		calls++
		return &decisionError{err: refusal}
	})
	if calls != 1 || !errors.Is(err, refusal) {
		t.Fatalf("%v after %d calls", err, calls)
	}
}
