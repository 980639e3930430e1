// Package store keeps expenses and their append-only audit trail in PostgreSQL (production) or an
// embedded SQLite file (the default on a laptop), behind one set of methods on *DB. Every state
// change is a single transaction that also appends its audit event.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
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
	stmts   statements
	owner   string // this instance, named in every lease it takes (see [DB.Owner])

	skipTextCheck bool // tests only: let text the database refuses reach it
}

// Open connects to databaseURL and applies pending migrations, creating the SQLite file if it
// does not exist: it is for the commands that set up and write the database (run, migrate,
// sandbox). An empty URL opens the SQLite file expensebot.db in the working directory; postgres://
// and postgresql:// use PostgreSQL; sqlite://PATH and file:PATH use SQLite.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	src, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	s, err := connect(ctx, src)
	if err != nil {
		return nil, err
	}
	if s.dialect == SQLite {
		if err := s.useWAL(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareInTx(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenExisting connects to a database that expensebot has already set up, for the commands that
// only read it (export). It takes the same URLs as Open but creates nothing and applies no
// migration: a missing SQLite file, a database without expensebot's tables, or one that lacks a
// migration this binary has, is an error that says what to fix. Open would instead create an
// empty database, and the command would read nothing from it without a word.
func OpenExisting(ctx context.Context, databaseURL string) (*DB, error) {
	src, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	if src.dialect == SQLite {
		if err := sqliteFileExists(src.file, databaseURL); err != nil {
			return nil, err
		}
		// SQLite's mode=rw opens the file read-write but never creates it, should it vanish
		// between the check above and the first connection.
		if !src.query.Has("mode") {
			src.query.Set("mode", "rw")
		}
	}
	s, err := connect(ctx, src)
	if err != nil {
		return nil, err
	}
	if err := s.checkMigrated(ctx, src.describe()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqliteFileExists returns an error naming the file, and saying how to name the right one, unless
// the SQLite database file exists.
func sqliteFileExists(file, databaseURL string) error {
	_, err := os.Stat(file)
	if err == nil {
		return nil
	}
	abs, absErr := filepath.Abs(file)
	if absErr != nil {
		abs = file
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: cannot use the SQLite database %s: %w", abs, err)
	}
	// The URL of an SQLite file holds no password, so it may be shown.
	from := "from DATABASE_URL=" + databaseURL
	if databaseURL == "" {
		from = "DATABASE_URL is not set, so that is " + DefaultSQLiteFile + " in the current directory"
	}
	return fmt.Errorf("store: there is no SQLite database at %s (%s); set DATABASE_URL=sqlite:///path/to/%s to the file the bot uses",
		abs, from, DefaultSQLiteFile)
}

// connect opens a pool on src and checks that the database answers.
func connect(ctx context.Context, src dataSource) (*DB, error) {
	db, err := sqlx.Open(src.driverName())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", src.dialect, err)
	}
	if src.dialect == SQLite {
		// One connection: SQLite serialises writers anyway, and a single connection never meets
		// SQLITE_BUSY from itself.
		db.SetMaxOpenConns(1)
	} else {
		// Enough for the request workers, the assessment workers and the notice deliverer at once.
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
	}
	s := &DB{db: db, dialect: src.dialect, now: func() time.Time { return time.Now().UTC() }, owner: newOwner()}
	if err := s.ping(ctx); err != nil {
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

// dataSource is what a DATABASE_URL names.
type dataSource struct {
	dialect string
	url     string     // PostgreSQL: the URL for lib/pq
	file    string     // SQLite: the file as given, relative to the working directory or absolute
	query   url.Values // SQLite: settings for modernc.org/sqlite and SQLite's own URI parameters
}

// driverName returns the database/sql driver and data source name of src.
func (src dataSource) driverName() (driver, name string) {
	if src.dialect == SQLite {
		return "sqlite", "file:" + src.file + "?" + src.query.Encode()
	}
	return "postgres", src.url
}

// describe names the database for a message, without the password a PostgreSQL URL may hold.
func (src dataSource) describe() string {
	if src.dialect == SQLite {
		if abs, err := filepath.Abs(src.file); err == nil {
			return "the SQLite database " + abs
		}
		return "the SQLite database " + src.file
	}
	u, err := url.Parse(src.url)
	if err != nil {
		return "the PostgreSQL database"
	}
	d := fmt.Sprintf("the PostgreSQL database %q on %s", strings.TrimPrefix(u.Path, "/"), u.Host)
	if sp := u.Query().Get("search_path"); sp != "" {
		d += " (search_path " + sp + ")"
	}
	return d
}

func parseURL(raw string) (dataSource, error) {
	switch {
	case raw == "":
		return sqliteSource(DefaultSQLiteFile), nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return dataSource{}, fmt.Errorf("store: DATABASE_URL is not a valid URL (check its quoting)")
		}
		// lib/pq sends a statement with parameters in two round trips (parse, then bind) unless
		// binary_parameters is on; every statement of the bot has parameters.
		if q := u.Query(); !q.Has("binary_parameters") {
			q.Set("binary_parameters", "yes")
			u.RawQuery = q.Encode()
		}
		return dataSource{dialect: Postgres, url: u.String()}, nil
	case strings.HasPrefix(raw, "sqlite://"):
		return sqliteSource(strings.TrimPrefix(raw, "sqlite://")), nil
	case strings.HasPrefix(raw, "file:"):
		return sqliteSource(strings.TrimPrefix(raw, "file:")), nil
	}
	scheme, _, _ := strings.Cut(raw, ":")
	return dataSource{}, fmt.Errorf("store: DATABASE_URL scheme %q is not supported; use postgres://…, sqlite://PATH or file:PATH", scheme)
}

// sqliteBusyTimeout is how long an SQLite connection waits for a lock another connection holds.
const sqliteBusyTimeout = 5 * time.Second

// sqliteSource is the SQLite file PATH[?QUERY], with the connection settings the store relies on
// added to the query.
func sqliteSource(file string) dataSource {
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
	return dataSource{dialect: SQLite, file: file, query: v}
}

// SetClock makes s stamp rows and events with now instead of the wall clock: tests move time
// without waiting. Call it before s is used.
func (s *DB) SetClock(now func() time.Time) { s.now = func() time.Time { return now().UTC() } }

// Owner is the instance id this DB names in the leases it takes (assessment holds, notice claims):
// the host, the process and a random part, unique to each Open.
func (s *DB) Owner() string { return s.owner }

// newOwner returns an instance id: host name, process id and 4 random bytes.
func newOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%x", expensebot.Truncate(host, 40), os.Getpid(), b)
}

// Dialect reports which engine is behind s: Postgres or SQLite.
func (s *DB) Dialect() string { return s.dialect }

// Close closes the database.
func (s *DB) Close() error {
	s.closeStatements()
	return s.db.Close()
}

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
	ms, err := migrationsOf(s.dialect)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if s.dialect == SQLite {
		// A table rebuild (see 0011) drops a table other tables refer to: with foreign keys on,
		// that is an implicit DELETE the references refuse. SQLite's procedure turns them off
		// first, which only works outside a transaction, and checks them before committing
		// (applyMigration). This connection is the migration's own and gets them back after.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	}
	for _, m := range ms {
		if err := applyMigration(ctx, conn, s.dialect, s.db.Rebind, m.version, m.name, m.body); err != nil {
			return fmt.Errorf("store: migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// migration is one embedded migration file, named NNNN_what.sql.
type migration struct {
	version    int
	name, body string
}

// migrationsOf returns the embedded migrations of a dialect, in order.
func migrationsOf(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	ms := make([]migration, 0, len(entries))
	for _, e := range entries {
		var version int
		if _, err := fmt.Sscanf(e.Name(), "%d_", &version); err != nil {
			return nil, fmt.Errorf("bad migration name %q", e.Name())
		}
		body, err := fs.ReadFile(migrations, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: version, name: e.Name(), body: string(body)})
	}
	return ms, nil
}

// checkMigrated returns an error unless the database has expensebot's tables, with every
// migration this binary embeds applied. what names the database in the message.
func (s *DB) checkMigrated(ctx context.Context, what string) error {
	q := "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
	if s.dialect == Postgres {
		q = "SELECT to_regclass('schema_migrations') IS NOT NULL" // in the search_path, as the queries
	}
	var set bool
	if err := s.db.GetContext(ctx, &set, q); err != nil {
		return fmt.Errorf("store: check the migrations of %s: %w", what, err)
	}
	if !set {
		return fmt.Errorf("store: %s has no expensebot tables; check that DATABASE_URL names the bot's database (a new one is set up by 'expensebot migrate')", what)
	}
	var applied []int
	if err := s.db.SelectContext(ctx, &applied, "SELECT version FROM schema_migrations"); err != nil {
		return fmt.Errorf("store: check the migrations of %s: %w", what, err)
	}
	ms, err := migrationsOf(s.dialect)
	if err != nil {
		return fmt.Errorf("store: check the migrations of %s: %w", what, err)
	}
	var missing []string
	for _, m := range ms {
		if !slices.Contains(applied, m.version) {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("store: %s lacks migration %s; run 'expensebot migrate' first", what, strings.Join(missing, ", "))
	}
	return nil
}

func applyMigration(ctx context.Context, conn *sqlx.Conn, dialect string, rebind func(string) string, version int, name, body string) error {
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
	if dialect == SQLite {
		if err := foreignKeyCheck(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"), version, name, time.Now().UTC()); err != nil {
		return err
	}
	return tx.Commit()
}

// foreignKeyCheck returns an error naming the first row whose reference is broken: SQLite does
// not check references while a migration runs with foreign keys off.
func foreignKeyCheck(ctx context.Context, tx *sqlx.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("row %d of %s refers to a row of %s that does not exist", rowid.Int64, table, parent)
	}
	return rows.Err()
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

// values is the VALUES list of a multi-row INSERT: rows groups of cols placeholders.
func values(rows, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return strings.Repeat(row+", ", rows-1) + row
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
