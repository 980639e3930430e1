package store

import (
	"context"
	"fmt"
	"slices"
)

// MigrationStatus compares the migrations a database has applied with those this binary embeds.
type MigrationStatus struct {
	Dialect  string   // Postgres or SQLite
	Database string   // the database in words, without a password
	Applied  int      // migrations applied that this binary knows
	Pending  []string // embedded migrations not applied yet, by file name, in order
	Unknown  []int    // versions applied that this binary does not embed: the database is newer
	Empty    bool     // the database has no expensebot tables at all
}

// Current reports whether the database has every migration this binary embeds and none it lacks.
func (m MigrationStatus) Current() bool {
	return !m.Empty && len(m.Pending) == 0 && len(m.Unknown) == 0
}

// MigrationStatus reads which migrations the database has applied; it changes nothing.
func (s *DB) MigrationStatus(ctx context.Context) (MigrationStatus, error) {
	return s.migrationStatus(ctx, "")
}

// InspectMigrations connects to databaseURL (as [OpenExisting] does: a missing SQLite file is an
// error that names it, and nothing is created) and reports its migrations, applying none.
func InspectMigrations(ctx context.Context, databaseURL string) (MigrationStatus, error) {
	src, err := parseURL(databaseURL)
	if err != nil {
		return MigrationStatus{}, err
	}
	if src.dialect == SQLite {
		if err := sqliteFileExists(src.file, databaseURL); err != nil {
			return MigrationStatus{Dialect: SQLite}, err
		}
		// Read-write but never create, as OpenExisting: read-only would fail on a WAL file whose
		// shared-memory file is not there. Nothing here writes.
		if !src.query.Has("mode") {
			src.query.Set("mode", "rw")
		}
	}
	s, err := connect(ctx, src)
	if err != nil {
		return MigrationStatus{Dialect: src.dialect}, err
	}
	defer s.db.Close()
	return s.migrationStatus(ctx, src.describe())
}

func (s *DB) migrationStatus(ctx context.Context, what string) (MigrationStatus, error) {
	st := MigrationStatus{Dialect: s.dialect, Database: what}
	q := "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
	if s.dialect == Postgres {
		q = "SELECT to_regclass('schema_migrations') IS NOT NULL"
	}
	var set bool
	if err := s.db.GetContext(ctx, &set, q); err != nil {
		return st, fmt.Errorf("store: read the migrations: %w", err)
	}
	var applied []int
	if set {
		if err := s.db.SelectContext(ctx, &applied, "SELECT version FROM schema_migrations ORDER BY version"); err != nil {
			return st, fmt.Errorf("store: read the migrations: %w", err)
		}
	}
	st.Empty = len(applied) == 0
	ms, err := migrationsOf(s.dialect)
	if err != nil {
		return st, fmt.Errorf("store: read the migrations: %w", err)
	}
	known := make([]int, len(ms))
	for i, m := range ms {
		known[i] = m.version
		if slices.Contains(applied, m.version) {
			st.Applied++
		} else {
			st.Pending = append(st.Pending, m.name)
		}
	}
	for _, v := range applied {
		if !slices.Contains(known, v) {
			st.Unknown = append(st.Unknown, v)
		}
	}
	return st, nil
}
