// Package store keeps expenses and their append-only audit trail in PostgreSQL (production) or an
// embedded SQLite file (the default on a laptop), behind one set of methods on *DB. Every state
// change is a single transaction that also appends its audit event.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // PostgreSQL driver
	"modernc.org/sqlite"  // pure-Go SQLite driver
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// Dialects.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// DefaultSQLiteFile is used when no DATABASE_URL is given.
const DefaultSQLiteFile = "expensebot.db"

// DB is an open, migrated store.
type DB struct {
	db      *sqlx.DB
	dialect string
	now     func() time.Time
}

// Open connects to databaseURL and applies pending migrations. An empty URL opens the SQLite file
// expensebot.db in the working directory; postgres:// and postgresql:// use PostgreSQL; sqlite://PATH
// and file:PATH use SQLite.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	dialect, driver, dsn, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	db, err := sqlx.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, err)
	}
	if dialect == SQLite {
		// One connection: SQLite serialises writers anyway, and a single connection never meets
		// SQLITE_BUSY from itself.
		db.SetMaxOpenConns(1)
	} else {
		// Enough for the request workers, the assessment workers and the notice deliverer at once.
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
	}
	s := &DB{db: db, dialect: dialect, now: func() time.Time { return time.Now().UTC() }}
	if err := s.ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if dialect == SQLite {
		if err := s.useWAL(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *DB) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// A ping alone does not read the file: ask SQLite something that does, so a corrupt file
	// fails here with a clear message rather than at the first submission.
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+s.catalog()).Scan(&n); err != nil {
		return fmt.Errorf("store: cannot use the %s database: %w", s.dialect, err)
	}
	return nil
}

// useWAL puts the SQLite file in write-ahead-log mode. The mode is kept in the file, so it is set
// once here rather than by every new connection.
//
// Switching a file to WAL is the one wait that busy_timeout does not cover. SQLite reads the file
// header under a read lock, then upgrades to the write lock to change it; a connection that already
// holds a read lock and meets another writer gets SQLITE_BUSY at once, without calling the busy
// handler, because two such upgraders waiting for each other would deadlock (btreeBeginTrans in
// sqlite3.c). Two processes opening one new file together meet exactly that: the loser used to fail
// with "database is locked" while its busy_timeout was still 5s away. SQLite's answer is to end the
// transaction and try again, which is what this does, for as long as busy_timeout would have
// waited. On a file already in WAL mode the statement is a read and takes no write lock.
func (s *DB) useWAL(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, sqliteBusyTimeout)
	defer cancel()
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		var mode string
		err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil {
			return nil
		}
		if !isBusy(err) {
			return fmt.Errorf("store: sqlite: switch to WAL mode: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: sqlite: switch to WAL mode: still locked by another connection after %v: %w", sqliteBusyTimeout, err)
		case <-time.After(wait):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, in any of its extended forms.
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

func (s *DB) catalog() string {
	if s.dialect == SQLite {
		return "sqlite_master"
	}
	return "pg_catalog.pg_namespace"
}

func parseURL(raw string) (dialect, driver, dsn string, err error) {
	switch {
	case raw == "":
		return SQLite, "sqlite", sqliteDSN(DefaultSQLiteFile), nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", "", fmt.Errorf("store: DATABASE_URL is not a valid URL (check its quoting)")
		}
		// lib/pq sends a statement with parameters in two round trips (parse, then bind) unless
		// binary_parameters is on; every statement of the bot has parameters.
		if q := u.Query(); !q.Has("binary_parameters") {
			q.Set("binary_parameters", "yes")
			u.RawQuery = q.Encode()
		}
		return Postgres, "postgres", u.String(), nil
	case strings.HasPrefix(raw, "sqlite://"):
		return SQLite, "sqlite", sqliteDSN(strings.TrimPrefix(raw, "sqlite://")), nil
	case strings.HasPrefix(raw, "file:"):
		return SQLite, "sqlite", sqliteDSN(strings.TrimPrefix(raw, "file:")), nil
	}
	scheme, _, _ := strings.Cut(raw, ":")
	return "", "", "", fmt.Errorf("store: DATABASE_URL scheme %q is not supported; use postgres://…, sqlite://PATH or file:PATH", scheme)
}

// sqliteBusyTimeout is how long an SQLite connection waits for a lock another connection holds.
const sqliteBusyTimeout = 5 * time.Second

func sqliteDSN(file string) string {
	file, query, _ := strings.Cut(file, "?")
	if file == "" {
		file = DefaultSQLiteFile
	}
	v, _ := url.ParseQuery(query)
	// Immediate transactions take the write lock at BEGIN, so two processes sharing a file wait
	// (busy_timeout) instead of failing half-way through a transaction.
	v.Set("_txlock", "immediate")
	// WAL (set once per file by useWAL, not here) with synchronous=NORMAL survives a crash of the
	// process (commits are in the WAL before Commit returns); only an OS crash or power cut can
	// lose the last commits. SQLite is the laptop and sandbox engine: production runs on PostgreSQL.
	busy := "busy_timeout(" + strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10) + ")"
	v["_pragma"] = append(v["_pragma"], busy, "synchronous(NORMAL)", "foreign_keys(1)")
	return "file:" + file + "?" + v.Encode()
}

// Dialect reports which engine is behind s: Postgres or SQLite.
func (s *DB) Dialect() string { return s.dialect }

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// migrationLock is the advisory lock key under which PostgreSQL migrations run, so that two
// instances starting together apply each migration once.
const migrationLock = 7_270_736_912

// Migrate applies the embedded migrations not applied yet, in order, each in its own transaction.
func (s *DB) Migrate(ctx context.Context) error {
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("store: migrate: take lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	dir := path.Join("migrations", s.dialect)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		var version int
		if _, err := fmt.Sscanf(e.Name(), "%d_", &version); err != nil {
			return fmt.Errorf("store: migrate: bad migration name %q", e.Name())
		}
		body, err := fs.ReadFile(migrations, path.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		if err := applyMigration(ctx, conn, s.db.Rebind, version, e.Name(), string(body)); err != nil {
			return fmt.Errorf("store: migrate %s: %w", e.Name(), err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *sqlx.Conn, rebind func(string) string, version int, name, body string) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Checked inside the transaction: for SQLite that is under the write lock, so two processes
	// opening one file apply a migration once (PostgreSQL has the advisory lock as well).
	var n int
	if err := tx.GetContext(ctx, &n, rebind("SELECT count(*) FROM schema_migrations WHERE version = ?"), version); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"), version, name, time.Now().UTC()); err != nil {
		return err
	}
	return tx.Commit()
}

// tx runs fn in a transaction, committing when it returns nil.
func (s *DB) tx(ctx context.Context, fn func(*sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *DB) q(query string) string { return s.db.Rebind(query) }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
