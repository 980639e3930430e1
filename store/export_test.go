package store

import "database/sql"

// ExecForTest runs raw SQL so that tests can try what the application never does (tamper with
// the audit trail) and check the database refuses.
func ExecForTest(db *DB, stmt string) (sql.Result, error) { return db.db.Exec(stmt) }

// SkipTextCheckForTest lets submissions with text PostgreSQL refuses reach the database, so that
// tests can see what one refused row costs a group commit.
func SkipTextCheckForTest(db *DB) { db.skipTextCheck = true }
