package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// The statements run for every expense are prepared once per connection and then reused:
// otherwise SQLite parses each one on every call, and PostgreSQL parses and plans it. What goes
// through here is fixed text, or text put together from a few fixed parts (the filters of the
// API's and the exports' queries); statements whose text grows with their data (VALUES lists)
// never do. The cache stops growing at maxPrepared, and a statement past it runs unprepared.

const maxPrepared = 64

type statements struct {
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

// prepared returns query (not yet rebound) prepared on the pool, or nil when it is not, and
// cannot be now: in a transaction (with SQLite's one connection, preparing on the pool would wait
// for the transaction that waits for it), or when the cache is full.
func (s *DB) prepared(ctx context.Context, query string, inTx bool) (*sqlx.Stmt, error) {
	s.stmts.mu.Lock()
	st, ok := s.stmts.m[query]
	full := len(s.stmts.m) >= maxPrepared
	s.stmts.mu.Unlock()
	if ok || inTx || full {
		return st, nil
	}
	st, err := s.db.PreparexContext(ctx, s.q(query))
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if had, ok := s.stmts.m[query]; ok { // prepared meanwhile by another caller
		st.Close()
		return had, nil
	}
	if s.stmts.m == nil {
		s.stmts.m = map[string]*sqlx.Stmt{}
	}
	s.stmts.m[query] = st
	return st, nil
}

// prepareInTx prepares the statements that are run only in transactions when the database opens.
func (s *DB) prepareInTx(ctx context.Context) error {
	qs := []string{routeQuery, routeIfReceiptsQuery}
	if s.dialect == Postgres {
		qs = append(qs, insertEventsPostgres, insertNoticesPostgres, noticesDonePostgres, insertExpensesPostgres)
	}
	for _, q := range qs {
		if _, err := s.prepared(ctx, q, false); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// stmtFor returns query prepared and bound to q (the pool, or a transaction), or nil when it is
// not prepared: the caller then runs it as text.
func (s *DB) stmtFor(ctx context.Context, q sqlx.QueryerContext, query string) (*sqlx.Stmt, error) {
	tx, inTx := q.(*sqlx.Tx)
	st, err := s.prepared(ctx, query, inTx)
	if err != nil || st == nil || !inTx {
		return st, err
	}
	return tx.StmtxContext(ctx, st), nil
}

// getPrepared runs a query of one row through q, prepared when it can be, and scans it into dest.
func (s *DB) getPrepared(ctx context.Context, q sqlx.QueryerContext, dest any, query string, args ...any) error {
	st, err := s.stmtFor(ctx, q, query)
	switch {
	case err != nil:
		return err
	case st == nil:
		return sqlx.GetContext(ctx, q, dest, s.q(query), args...)
	}
	return st.GetContext(ctx, dest, args...)
}

// selectPrepared is getPrepared for many rows.
func (s *DB) selectPrepared(ctx context.Context, q sqlx.QueryerContext, dest any, query string, args ...any) error {
	st, err := s.stmtFor(ctx, q, query)
	switch {
	case err != nil:
		return err
	case st == nil:
		return sqlx.SelectContext(ctx, q, dest, s.q(query), args...)
	}
	return st.SelectContext(ctx, dest, args...)
}

// execPrepared runs a statement in tx, prepared when it can be.
func (s *DB) execPrepared(ctx context.Context, tx *sqlx.Tx, query string, args ...any) error {
	st, err := s.stmtFor(ctx, tx, query)
	switch {
	case err != nil:
		return err
	case st == nil:
		_, err = tx.ExecContext(ctx, s.q(query), args...)
	default:
		_, err = st.ExecContext(ctx, args...)
	}
	return err
}

// closeStatements closes the prepared statements, before the pool closes.
func (s *DB) closeStatements() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	for _, st := range s.stmts.m {
		st.Close()
	}
	s.stmts.m = nil
}
