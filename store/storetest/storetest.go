// Package storetest opens real, isolated databases for tests: a fresh SQLite file in a temporary
// directory, and a fresh schema in the PostgreSQL named by TEST_DATABASE_URL.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/loudskip"
	"github.com/expensebot/expensebot/store"
	_ "github.com/lib/pq" // PostgreSQL driver
)

// DefaultPostgresURL is used when TEST_DATABASE_URL is unset: the local server CI starts.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/expensebot_test?sslmode=disable"

// Engines lists the store dialects a contract test should run against.
var Engines = []string{store.SQLite, store.Postgres}

// PostgresURL returns the base URL of the test PostgreSQL database.
func PostgresURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

var (
	pgOnce sync.Once
	pgErr  error
)

// reachPostgres checks once that PostgreSQL answers, creating the test database if it is missing.
func reachPostgres() error {
	pgOnce.Do(func() {
		base := PostgresURL()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		db, _ := sql.Open("postgres", base)
		defer db.Close()
		pgErr = db.PingContext(ctx)
		if pgErr == nil || !strings.Contains(pgErr.Error(), "does not exist") {
			return
		}
		u, err := url.Parse(base)
		if err != nil {
			return
		}
		name := strings.TrimPrefix(u.Path, "/")
		u.Path = "/postgres"
		admin, _ := sql.Open("postgres", u.String())
		defer admin.Close()
		// go test runs each package's tests in a process of its own, and on a server without the
		// database they all get here together: one CREATE DATABASE wins, the others fail with
		// "already exists" (or a unique violation on pg_database). Losing that race is fine; what
		// counts is that the database is there now, which the ping below answers.
		_, createErr := admin.ExecContext(ctx, `CREATE DATABASE "`+name+`"`)
		if pgErr = db.PingContext(ctx); pgErr != nil && createErr != nil {
			pgErr = fmt.Errorf("create database %s: %w", name, createErr)
		}
	})
	return pgErr
}

// URL returns a database URL for a fresh, empty database of the given dialect that is removed when
// the test ends. Unreachable PostgreSQL skips the test, with one line per package that even a plain
// go test ./... shows, or fails it when EXPENSEBOT_REQUIRE_POSTGRES=1.
func URL(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == store.SQLite {
		return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
	}
	if err := reachPostgres(); err != nil {
		msg := "PostgreSQL at TEST_DATABASE_URL (" + redact(PostgresURL()) + ") is unreachable: " + err.Error()
		if os.Getenv("EXPENSEBOT_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		// One line per package even in a plain `go test ./...`, which otherwise says only "ok".
		// The result is cached like any pass, and starting PostgreSQL does not invalidate it.
		loudskip.Skip(t, "the PostgreSQL half", msg+" (EXPENSEBOT_REQUIRE_POSTGRES=1 fails instead; "+
			"go test caches this result: use -count=1 once PostgreSQL is up)")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	db, _ := sql.Open("postgres", PostgresURL())
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		db, _ := sql.Open("postgres", PostgresURL())
		defer db.Close()
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, _ := url.Parse(PostgresURL())
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated store on a fresh database of the given dialect, closed when the test ends.
func Open(t testing.TB, dialect string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), URL(t, dialect))
	if err != nil {
		t.Fatalf("open %s store: %v", dialect, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable)"
	}
	return u.Redacted()
}
