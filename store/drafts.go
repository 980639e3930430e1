package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/jmoiron/sqlx"
)

// This file keeps drafts: expenses read off a receipt posted in the bot's DM, waiting for their
// owner's click. A draft row is deleted when it is submitted, discarded or expired; its trail
// stays in draft_events.

// draftRow is a drafts row as the database holds it.
type draftRow struct {
	ID          int64     `db:"id"`
	UserID      string    `db:"user_id"`
	TeamID      string    `db:"team_id"`
	Channel     string    `db:"channel"`
	MessageTS   string    `db:"message_ts"`
	Receipt     string    `db:"receipt"`
	Amount      int64     `db:"amount"`
	Currency    string    `db:"currency"`
	Merchant    string    `db:"merchant"`
	Category    string    `db:"category"`
	Description string    `db:"description"`
	IncurredOn  time.Time `db:"incurred_on"`
	CreatedAt   time.Time `db:"created_at"`
	ExpiresAt   time.Time `db:"expires_at"`
}

const draftColumns = "id, user_id, team_id, channel, message_ts, receipt, amount, currency, merchant, category, description, incurred_on, created_at, expires_at"

func (r draftRow) draft() (expensebot.Draft, error) {
	d := expensebot.Draft{ID: r.ID, UserID: r.UserID, TeamID: r.TeamID, Channel: r.Channel, MessageTS: r.MessageTS,
		Amount: expensebot.Money{Minor: r.Amount, Currency: r.Currency}, Merchant: r.Merchant, Category: r.Category,
		Description: r.Description, IncurredOn: r.IncurredOn.UTC(), CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
	if err := json.Unmarshal([]byte(r.Receipt), &d.Receipt); err != nil {
		return d, fmt.Errorf("draft %d: unreadable receipt: %w", r.ID, err)
	}
	return d, nil
}

// draftGone is the error for a draft that is not (or no longer) there.
func draftGone(id int64) error {
	return expensebot.Errorf(expensebot.ENOTFOUND, "Draft #%d is gone: it was submitted, discarded or expired.", id)
}

// DraftSeen reports whether a draft was ever made for key (one file of one Slack event), and
// returns it while it is still there: a redelivered event is answered by what it made the first
// time, and never read again.
func (s *DB) DraftSeen(ctx context.Context, key string) (d expensebot.Draft, seen, live bool, err error) {
	var n int
	if err := s.db.GetContext(ctx, &n, s.q("SELECT count(*) FROM seen_events WHERE key = ?"), "draft:"+key); err != nil {
		return d, false, false, fmt.Errorf("store: draft of %s: %w", key, err)
	}
	if n == 0 {
		return d, false, false, nil
	}
	var row draftRow
	err = s.db.GetContext(ctx, &row, s.q("SELECT "+draftColumns+" FROM drafts WHERE event_key = ?"), key)
	if isNoRows(err) {
		return d, true, false, nil
	}
	if err != nil {
		return d, true, false, fmt.Errorf("store: draft of %s: %w", key, err)
	}
	d, err = row.draft()
	return d, true, err == nil, err
}

// CreateDraft keeps draft d made for key (one file of one Slack event), with a draft_created
// event, and returns it with its id. A key seen before creates nothing: created is false, and d
// is the draft it made, if it is still there.
func (s *DB) CreateDraft(ctx context.Context, key string, d expensebot.Draft) (saved expensebot.Draft, created bool, err error) {
	rec, err := json.Marshal(d.Receipt)
	if err != nil {
		return d, false, fmt.Errorf("store: create draft: %w", err)
	}
	now := s.now()
	err = s.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("INSERT INTO seen_events (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"), "draft:"+key, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		var id int64
		if err := tx.GetContext(ctx, &id, s.q(`INSERT INTO drafts (event_key, user_id, team_id, channel, message_ts, receipt, amount, currency,
			merchant, category, description, incurred_on, created_at, expires_at) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			key, d.UserID, d.TeamID, d.Channel, string(rec), d.Amount.Minor, d.Amount.Currency, d.Merchant, d.Category, d.Description,
			d.IncurredOn.UTC(), now, d.ExpiresAt.UTC()); err != nil {
			return err
		}
		d.ID, d.CreatedAt, created = id, now, true
		detail := map[string]any{"file_id": d.Receipt.FileID, "name": d.Receipt.Name, "sha256": d.Receipt.SHA256,
			"amount": d.Amount.String(), "category": d.Category, "expires_at": d.ExpiresAt.UTC()}
		if d.Receipt.Reading != nil {
			detail["facts"], detail["model"], detail["offline"] = d.Receipt.Reading.Facts, d.Receipt.Reading.Model, d.Receipt.Reading.Offline
		}
		return s.draftEvent(ctx, tx, id, expensebot.EventDraftCreated, d.UserID, now, detail)
	})
	if err != nil {
		return d, false, fmt.Errorf("store: create draft for %s: %w", d.UserID, err)
	}
	if !created {
		d, _, _, err = s.DraftSeen(ctx, key)
		return d, false, err
	}
	return d, true, nil
}

func (s *DB) draftEvent(ctx context.Context, tx *sqlx.Tx, id int64, kind, actor string, at time.Time, detail map[string]any) error {
	b, err := json.Marshal(detail)
	if err != nil || detail == nil {
		b = []byte("{}")
	}
	_, err = tx.ExecContext(ctx, s.q("INSERT INTO draft_events (draft_id, kind, actor, at, detail) VALUES (?, ?, ?, ?, ?)"), id, kind, actor, at.UTC(), string(b))
	return err
}

// SetDraftMessage records where draft id's message was posted, so that it is edited in place.
func (s *DB) SetDraftMessage(ctx context.Context, id int64, ts string) error {
	if _, err := s.db.ExecContext(ctx, s.q("UPDATE drafts SET message_ts = ? WHERE id = ?"), ts, id); err != nil {
		return fmt.Errorf("store: message of draft %d: %w", id, err)
	}
	return nil
}

// Draft returns draft id, or ENOTFOUND once it was submitted, discarded or expired.
func (s *DB) Draft(ctx context.Context, id int64) (expensebot.Draft, error) {
	var row draftRow
	err := s.db.GetContext(ctx, &row, s.q("SELECT "+draftColumns+" FROM drafts WHERE id = ?"), id)
	if isNoRows(err) {
		return expensebot.Draft{}, draftGone(id)
	}
	if err != nil {
		return expensebot.Draft{}, fmt.Errorf("store: draft %d: %w", id, err)
	}
	return row.draft()
}

// Drafts returns user's drafts, oldest first.
func (s *DB) Drafts(ctx context.Context, user string) ([]expensebot.Draft, error) {
	return s.drafts(ctx, "SELECT "+draftColumns+" FROM drafts WHERE user_id = ? ORDER BY id LIMIT 50", user)
}

// DueDrafts returns up to limit drafts whose time ran out by now.
func (s *DB) DueDrafts(ctx context.Context, now time.Time, limit int) ([]expensebot.Draft, error) {
	return s.drafts(ctx, "SELECT "+draftColumns+" FROM drafts WHERE expires_at <= ? ORDER BY expires_at, id LIMIT ?", now.UTC(), limit)
}

func (s *DB) drafts(ctx context.Context, query string, args ...any) ([]expensebot.Draft, error) {
	var rows []draftRow
	if err := s.db.SelectContext(ctx, &rows, s.q(query), args...); err != nil {
		return nil, fmt.Errorf("store: drafts: %w", err)
	}
	out := make([]expensebot.Draft, 0, len(rows))
	for _, r := range rows {
		d, err := r.draft()
		if err != nil {
			return nil, fmt.Errorf("store: drafts: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// EndDraft removes draft id for good, with an event of kind (submitted, discarded, expired) by
// actor: of the draft, only its trail remains. ended is false when it was already gone (another
// click or instance ended it first): then nothing is recorded.
func (s *DB) EndDraft(ctx context.Context, id int64, kind, actor string, detail map[string]any) (d expensebot.Draft, ended bool, err error) {
	err = s.tx(ctx, func(tx *sqlx.Tx) error {
		var row draftRow
		if err := tx.GetContext(ctx, &row, s.q("SELECT "+draftColumns+" FROM drafts WHERE id = ?"), id); err != nil {
			if isNoRows(err) {
				return nil
			}
			return err
		}
		res, err := tx.ExecContext(ctx, s.q("DELETE FROM drafts WHERE id = ?"), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if d, err = row.draft(); err != nil {
			return err
		}
		ended = true
		return s.draftEvent(ctx, tx, id, kind, actor, s.now(), detail)
	})
	if err != nil {
		return d, false, fmt.Errorf("store: end draft %d: %w", id, err)
	}
	return d, ended, nil
}

// DraftEvents returns the trail of draft id, oldest first.
func (s *DB) DraftEvents(ctx context.Context, id int64) ([]expensebot.DraftEvent, error) {
	var rows []struct {
		DraftID int64     `db:"draft_id"`
		Kind    string    `db:"kind"`
		Actor   string    `db:"actor"`
		At      time.Time `db:"at"`
		Detail  string    `db:"detail"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.q("SELECT draft_id, kind, actor, at, detail FROM draft_events WHERE draft_id = ? ORDER BY id"), id); err != nil {
		return nil, fmt.Errorf("store: events of draft %d: %w", id, err)
	}
	out := make([]expensebot.DraftEvent, len(rows))
	for i, r := range rows {
		out[i] = expensebot.DraftEvent{DraftID: r.DraftID, Kind: r.Kind, Actor: r.Actor, At: r.At.UTC()}
		_ = json.Unmarshal([]byte(r.Detail), &out[i].Detail)
	}
	return out, nil
}
