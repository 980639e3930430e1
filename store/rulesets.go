package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/jmoiron/sqlx"
)

// ruleSetLock serialises changes of the rules on PostgreSQL (pg_advisory_xact_lock), so that two
// administrators saving at once cannot both build on the same version.
const ruleSetLock = 0x72756c6573 // "rules"

type ruleSetRow struct {
	ID        int64     `db:"id"`
	Version   string    `db:"version"`
	Source    string    `db:"source"`
	ChangedBy string    `db:"changed_by"`
	Settings  string    `db:"settings"`
	CreatedAt time.Time `db:"created_at"`
}

func (r ruleSetRow) ruleSet() expensebot.RuleSet {
	return expensebot.RuleSet{ID: r.ID, Version: r.Version, Source: r.Source, ChangedBy: r.ChangedBy,
		Settings: json.RawMessage(r.Settings), CreatedAt: r.CreatedAt.UTC()}
}

// RuleSetID returns the id of the newest rule set, 0 when there is none: the cheap question every
// instance asks to learn whether the rules changed.
func (s *DB) RuleSetID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := s.db.GetContext(ctx, &id, "SELECT max(id) FROM rule_sets"); err != nil {
		return 0, fmt.Errorf("store: newest rule set: %w", err)
	}
	return id.Int64, nil
}

// RuleSet returns the newest rule set; false when there is none.
func (s *DB) RuleSet(ctx context.Context) (expensebot.RuleSet, bool, error) {
	rs, ok, err := s.latestRuleSet(ctx, s.db, "")
	if err != nil {
		return rs, false, fmt.Errorf("store: newest rule set: %w", err)
	}
	return rs, ok, nil
}

func (s *DB) latestRuleSet(ctx context.Context, q sqlx.QueryerContext, source string) (expensebot.RuleSet, bool, error) {
	query, args := "SELECT id, version, source, changed_by, settings, created_at FROM rule_sets ORDER BY id DESC LIMIT 1", []any{}
	if source != "" {
		query, args = "SELECT id, version, source, changed_by, settings, created_at FROM rule_sets WHERE source = ? ORDER BY id DESC LIMIT 1", []any{source}
	}
	var r ruleSetRow
	err := sqlx.GetContext(ctx, q, &r, s.q(query), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return expensebot.RuleSet{}, false, nil
	}
	if err != nil {
		return expensebot.RuleSet{}, false, err
	}
	return r.ruleSet(), true, nil
}

// SeedRuleSet records the rules the environment and the policy file give, rs, at a start: as the
// newest rule set when they differ from those the environment gave last (or none was recorded),
// so that an operator's edit of the environment takes effect, while a restart with the same
// environment keeps what administrators changed since. It returns the newest rule set after.
func (s *DB) SeedRuleSet(ctx context.Context, rs expensebot.RuleSet) (expensebot.RuleSet, error) {
	var out expensebot.RuleSet
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockRuleSets(ctx, tx); err != nil {
			return err
		}
		last, ok, err := s.latestRuleSet(ctx, tx, expensebot.RulesFromEnvironment)
		if err != nil {
			return err
		}
		if !ok || string(last.Settings) != string(rs.Settings) {
			rs.Source, rs.ChangedBy = expensebot.RulesFromEnvironment, ""
			if err := s.insertRuleSet(ctx, tx, &rs); err != nil {
				return err
			}
		}
		out, _, err = s.latestRuleSet(ctx, tx, "")
		return err
	})
	if err != nil {
		return out, fmt.Errorf("store: record the rules of the environment: %w", err)
	}
	return out, nil
}

// ChangeRules records rs, an administrator's change, as the newest rule set, with its audit
// event, in one transaction, provided the newest rule set is still base (the one the change was
// made from): otherwise ECONFLICT, and nothing is written.
func (s *DB) ChangeRules(ctx context.Context, base int64, rs expensebot.RuleSet, ev expensebot.AuditEvent) (expensebot.RuleSet, error) {
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockRuleSets(ctx, tx); err != nil {
			return err
		}
		var newest sql.NullInt64
		if err := tx.GetContext(ctx, &newest, "SELECT max(id) FROM rule_sets"); err != nil {
			return err
		}
		if newest.Int64 != base {
			return expensebot.Errorf(expensebot.ECONFLICT, "Someone else changed the settings meanwhile; nothing was saved. Open the settings again to see theirs.")
		}
		rs.Source = expensebot.RulesFromAdmin
		if err := s.insertRuleSet(ctx, tx, &rs); err != nil {
			return err
		}
		ev.ExpenseID = 0
		return s.appendEvents(ctx, tx, ev)
	})
	if err != nil {
		return rs, fmt.Errorf("store: change the rules: %w", err)
	}
	return rs, nil
}

// RulesEvents returns the rules_changed audit events, oldest first.
func (s *DB) RulesEvents(ctx context.Context) ([]expensebot.AuditEvent, error) {
	var rows []struct {
		ID     int64     `db:"id"`
		Kind   string    `db:"kind"`
		Actor  string    `db:"actor"`
		At     time.Time `db:"at"`
		Detail string    `db:"detail"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.q("SELECT id, kind, actor, at, "+s.detailTextOf("audit_events")+" AS detail FROM audit_events WHERE expense_id IS NULL AND kind = ? ORDER BY id"), expensebot.EventRulesChanged); err != nil {
		return nil, fmt.Errorf("store: rules events: %w", err)
	}
	evs := make([]expensebot.AuditEvent, len(rows))
	for i, r := range rows {
		evs[i] = expensebot.AuditEvent{ID: r.ID, Kind: r.Kind, Actor: r.Actor, At: r.At.UTC(), Detail: json.RawMessage(r.Detail)}
	}
	return evs, nil
}

func (s *DB) lockRuleSets(ctx context.Context, tx *sqlx.Tx) error {
	if s.dialect != Postgres {
		return nil // SQLite: one writer at a time already
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", ruleSetLock)
	return err
}

func (s *DB) insertRuleSet(ctx context.Context, tx *sqlx.Tx, rs *expensebot.RuleSet) error {
	rs.CreatedAt = s.now()
	q := "INSERT INTO rule_sets (version, source, changed_by, settings, created_at) VALUES (?, ?, ?, ?, ?)"
	args := []any{rs.Version, rs.Source, rs.ChangedBy, string(rs.Settings), rs.CreatedAt}
	if s.dialect == Postgres {
		return tx.GetContext(ctx, &rs.ID, s.q(q+" RETURNING id"), args...)
	}
	res, err := tx.ExecContext(ctx, s.q(q), args...)
	if err != nil {
		return err
	}
	rs.ID, err = res.LastInsertId()
	return err
}
