package store

import (
	"context"
	"fmt"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/jmoiron/sqlx"
)

// delegationLock is the advisory lock key under which PostgreSQL changes delegations, so that two
// reviewers delegating to each other at the same moment cannot both pass the loop check.
// (SQLite's transactions hold the whole database already.)
const delegationLock = 7_270_736_914

type delegationRow struct {
	Reviewer string    `db:"reviewer_id"`
	Delegate string    `db:"delegate_id"`
	Until    time.Time `db:"away_until"`
}

func (s *DB) delegations(ctx context.Context, q sqlx.QueryerContext, now time.Time) ([]expensebot.Delegation, error) {
	var rows []delegationRow
	if err := sqlx.SelectContext(ctx, q, &rows, s.q(`SELECT reviewer_id, delegate_id, away_until FROM delegations
		WHERE ended_at IS NULL AND away_until > ? ORDER BY reviewer_id`), now); err != nil {
		return nil, err
	}
	out := make([]expensebot.Delegation, len(rows))
	for i, r := range rows {
		out[i] = expensebot.Delegation{Reviewer: r.Reviewer, Delegate: r.Delegate, Until: r.Until.UTC()}
	}
	return out, nil
}

// Delegations returns the delegations in force now, by reviewer.
func (s *DB) Delegations(ctx context.Context) ([]expensebot.Delegation, error) {
	out, err := s.delegations(ctx, s.db, s.now())
	if err != nil {
		return nil, fmt.Errorf("store: delegations: %w", err)
	}
	return out, nil
}

// Delegate records that d.Reviewer is away until d.Until and d.Delegate decides for them
// meanwhile, replacing their current delegation if any. Returns EINVALID for a delegation to
// oneself or one that ends in the past, and ECONFLICT when it would close a loop (the delegate, or
// someone they delegate to, has d.Reviewer decide for them): two reviewers cannot stand in for
// each other.
func (s *DB) Delegate(ctx context.Context, d expensebot.Delegation) error {
	now := s.now()
	switch {
	case d.Reviewer == "" || d.Delegate == "":
		return expensebot.Errorf(expensebot.EINVALID, "Choose who decides for you.")
	case d.Reviewer == d.Delegate:
		return expensebot.Errorf(expensebot.EINVALID, "Choose someone else to decide for you.")
	case !d.Until.After(now):
		return expensebot.Errorf(expensebot.EINVALID, "The date you are back must be in the future.")
	}
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", delegationLock); err != nil {
				return err
			}
		}
		current, err := s.delegations(ctx, tx, now)
		if err != nil {
			return err
		}
		to := map[string]string{}
		for _, c := range current {
			to[c.Reviewer] = c.Delegate
		}
		to[d.Reviewer] = d.Delegate
		for at, steps := d.Delegate, 0; at != "" && steps <= len(to); at, steps = to[at], steps+1 {
			if at == d.Reviewer {
				return expensebot.Errorf(expensebot.ECONFLICT, "The person you chose is away and has you decide for them (directly or through others); two reviewers cannot stand in for each other. Choose someone else.")
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("UPDATE delegations SET ended_at = ? WHERE reviewer_id = ? AND ended_at IS NULL"), now, d.Reviewer); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q("INSERT INTO delegations (reviewer_id, delegate_id, away_until, created_at) VALUES (?, ?, ?, ?)"),
			d.Reviewer, d.Delegate, d.Until.UTC(), now)
		return err
	})
	if err != nil && expensebot.ErrorCode(err) == expensebot.EINTERNAL {
		return fmt.Errorf("store: delegate for %s: %w", d.Reviewer, err)
	}
	return err
}

// EndDelegation ends reviewer's current delegation, if any: they are back.
func (s *DB) EndDelegation(ctx context.Context, reviewer string) error {
	if _, err := s.db.ExecContext(ctx, s.q("UPDATE delegations SET ended_at = ? WHERE reviewer_id = ? AND ended_at IS NULL"), s.now(), reviewer); err != nil {
		return fmt.Errorf("store: end delegation of %s: %w", reviewer, err)
	}
	return nil
}
