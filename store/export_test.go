package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ExecForTest runs raw SQL so that tests can try what the application never does (tamper with
// the audit trail) and check the database refuses.
func ExecForTest(db *DB, stmt string) (sql.Result, error) { return db.db.Exec(stmt) }

// SkipTextCheckForTest lets submissions with text PostgreSQL refuses reach the database, so that
// tests can see what one refused row costs a group commit.
func SkipTextCheckForTest(db *DB) { db.skipTextCheck = true }

// OpenAtForTest opens databaseURL with only the migrations up to version upTo applied, so that
// tests can put rows in an older schema and then see Migrate carry them over.
func OpenAtForTest(ctx context.Context, databaseURL string, upTo int) (*DB, error) {
	src, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	s, err := connect(ctx, src)
	if err != nil {
		return nil, err
	}
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return nil, err
	}
	ms, err := migrationsOf(s.dialect)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.version > upTo {
			break
		}
		if err := applyMigration(ctx, conn, s.dialect, s.db.Rebind, m.version, m.name, m.body); err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
	}
	return s, nil
}

// QueryStringsForTest returns the first column of every row of a query, as text.
func QueryStringsForTest(db *DB, query string, args ...any) ([]string, error) {
	var out []string
	err := db.db.Select(&out, db.q(query), args...)
	return out, err
}

// QueryRowsForTest returns every row of a query with each value as text ("" for NULL).
func QueryRowsForTest(db *DB, query string, args ...any) ([][]string, error) {
	rows, err := db.db.Query(db.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
