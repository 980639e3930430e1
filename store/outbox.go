package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

func (s *DB) addNotices(ctx context.Context, tx *sqlx.Tx, notices ...expensebot.Notice) error {
	_, err := s.queueNotices(ctx, tx, time.Time{}, notices...)
	return err
}

// queueNotices adds notices to the outbox in one statement and returns their ids, in order. With
// claimedUntil set they are claimed (see ClaimNotices) for whoever queues them until then.
func (s *DB) queueNotices(ctx context.Context, tx *sqlx.Tx, claimedUntil time.Time, notices ...expensebot.Notice) ([]int64, error) {
	if len(notices) == 0 {
		return nil, nil
	}
	now := s.now()
	attempts, until, owner := 0, sql.NullTime{}, ""
	if !claimedUntil.IsZero() {
		attempts, until, owner = 1, sql.NullTime{Time: claimedUntil, Valid: true}, s.owner
	}
	var ids []int64
	var err error
	if s.dialect == Postgres {
		// One statement of fixed text for any number of notices, prepared once (see appendEvents).
		kinds, expenses, events, actors, texts := make([]string, len(notices)), make([]int64, len(notices)), make([]string, len(notices)), make([]string, len(notices)), make([]string, len(notices))
		for i, n := range notices {
			kinds[i], expenses[i], events[i], actors[i], texts[i] = n.Kind, n.ExpenseID, n.Event, n.Actor, n.Text
		}
		err = s.selectPrepared(ctx, tx, &ids, insertNoticesPostgres, now, now, until, attempts, owner,
			pq.Array(kinds), pq.Array(expenses), pq.Array(events), pq.Array(actors), pq.Array(texts))
	} else {
		args := make([]any, 0, 10*len(notices))
		for _, n := range notices {
			args = append(args, n.Kind, n.ExpenseID, n.Event, n.Actor, n.Text, now, now, until, attempts, owner)
		}
		err = tx.SelectContext(ctx, &ids, s.q("INSERT INTO outbox (kind, expense_id, event, actor, text, next_attempt, created_at, claimed_until, attempts, claim_owner) VALUES "+
			values(len(notices), 10)+" RETURNING id"), args...)
	}
	if err != nil {
		return nil, fmt.Errorf("queue %s notice: %w", notices[0].Kind, err)
	}
	if len(ids) != len(notices) {
		return nil, fmt.Errorf("queue notices: %d ids for %d notices", len(ids), len(notices))
	}
	// Ids are given in the order of the rows; the order the rows come back in is not promised.
	slices.Sort(ids)
	return ids, nil
}

const insertNoticesPostgres = `INSERT INTO outbox (kind, expense_id, event, actor, text, next_attempt, created_at, claimed_until, attempts, claim_owner)
	SELECT k, e, ev, a, t, ?::timestamptz, ?::timestamptz, ?::timestamptz, ?::int, ?::text
	FROM unnest(?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS n(k, e, ev, a, t, ord)
	ORDER BY ord
	RETURNING id`

const noticesDonePostgres = `UPDATE outbox SET done_at = ?, claimed_until = NULL, last_error = ''
	WHERE done_at IS NULL AND id = ANY(?::bigint[]) AND claim_owner IN ('', ?) RETURNING id`

// lane is the SQL for a notice's queue within its expense (see ClaimNotices).
func lane(alias string) string {
	return "(CASE " + alias + ".kind WHEN '" + expensebot.NoticeTellSubmitter + "' THEN 1 WHEN '" + expensebot.NoticeCallback + "' THEN 2 ELSE 0 END)"
}

// skipLocked ends a claim's SELECT on PostgreSQL: rows another instance is claiming this moment
// are passed over rather than waited for, so a second instance neither waits nor gets a short
// batch. SQLite has one writer at a time and no row locks. The lock is the one the UPDATE takes
// anyway (NO KEY UPDATE): FOR UPDATE would also count the key-share lock that inserting a row
// referring to this one (an audit event of the expense) takes, and pass over rows nobody claims.
func (s *DB) skipLocked(alias string) string {
	if s.dialect == Postgres {
		return " FOR NO KEY UPDATE OF " + alias + " SKIP LOCKED"
	}
	return ""
}

// inClaim and inClaimEnd surround a claim's locking subquery. On PostgreSQL the subquery must run
// once: as the right side of IN it may be run again for a later row, and with SKIP LOCKED each run
// can pick other rows, so a claim of 1 could take 2. An ARRAY(…) is computed once.
func (s *DB) inClaim() string {
	if s.dialect == Postgres {
		return "= ANY(ARRAY"
	}
	return "IN"
}

func (s *DB) inClaimEnd() string {
	if s.dialect == Postgres {
		return ")"
	}
	return ""
}

// ClaimNotices leases up to limit notices that are due, oldest first, for lease. Each expense has
// three queues: its card's (post, update, comment; its spot check's too), its submitter's DMs, and its API callbacks. A
// notice waits while an older one in its queue is undelivered, so a card is posted before it is
// updated and DMs and callbacks arrive in order, while a card that cannot be posted holds up
// neither the submitter's news nor the calling system, and a receiver that is down holds up no DM. One conditional UPDATE claims the batch: of two instances racing, each notice goes
// to one of them.
func (s *DB) ClaimNotices(ctx context.Context, limit int, lease time.Duration) ([]expensebot.Notice, error) {
	now := s.now()
	var rows []struct {
		ID        int64  `db:"id"`
		Kind      string `db:"kind"`
		ExpenseID int64  `db:"expense_id"`
		Event     string `db:"event"`
		Actor     string `db:"actor"`
		Text      string `db:"text"`
		Attempts  int    `db:"attempts"`
	}
	err := s.db.SelectContext(ctx, &rows, s.q(`UPDATE outbox SET claimed_until = ?, claim_owner = ?, attempts = attempts + 1
		WHERE id `+s.inClaim()+` (SELECT id FROM outbox o
			WHERE done_at IS NULL AND next_attempt <= ? AND (claimed_until IS NULL OR claimed_until < ?)
			AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.expense_id = o.expense_id AND p.id < o.id AND p.done_at IS NULL
				AND `+lane("p")+` = `+lane("o")+`)
			ORDER BY id LIMIT ?`+s.skipLocked("o")+`)`+s.inClaimEnd()+`
		AND done_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?)
		RETURNING id, kind, expense_id, event, actor, text, attempts`), now.Add(lease), s.owner, now, now,
		limit, now)
	if err != nil {
		return nil, fmt.Errorf("store: claim notices: %w", err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	out := make([]expensebot.Notice, len(rows))
	for i, r := range rows {
		out[i] = expensebot.Notice{ID: r.ID, Kind: r.Kind, ExpenseID: r.ExpenseID, Event: r.Event, Actor: r.Actor, Text: r.Text, Attempts: r.Attempts - 1}
	}
	if err := s.destinations(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// destinations fills in where each notice goes: the card's channel for card notices, the
// submitter for DMs, the receiver's host for callbacks (each host has a delivery lane of its own).
func (s *DB) destinations(ctx context.Context, ns []expensebot.Notice) error {
	if len(ns) == 0 {
		return nil
	}
	ids := make([]int64, len(ns))
	for i, n := range ns {
		ids[i] = n.ExpenseID
	}
	q, args, err := sqlx.In("SELECT id, review_channel, submitter_id, callback_url FROM expenses WHERE id IN (?)", ids)
	if err != nil {
		return fmt.Errorf("store: notice destinations: %w", err)
	}
	var rows []struct {
		ID        int64  `db:"id"`
		Channel   string `db:"review_channel"`
		Submitter string `db:"submitter_id"`
		Callback  string `db:"callback_url"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.q(q), args...); err != nil {
		return fmt.Errorf("store: notice destinations: %w", err)
	}
	byID := make(map[int64]int, len(rows))
	for i, r := range rows {
		byID[r.ID] = i
	}
	for i := range ns {
		r := rows[byID[ns[i].ExpenseID]]
		switch ns[i].Kind {
		case expensebot.NoticeTellSubmitter:
			ns[i].Dest = r.Submitter
		case expensebot.NoticeCallback:
			ns[i].Dest = expensebot.CallbackHost(r.Callback)
		default:
			ns[i].Dest = r.Channel
		}
	}
	return nil
}

// ReleaseNotices hands claimed notices back undelivered, due at once: an instance that stops
// does not make the others wait out its lease.
func (s *DB) ReleaseNotices(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	q, args, err := sqlx.In("UPDATE outbox SET claimed_until = NULL, claim_owner = '' WHERE done_at IS NULL AND id IN (?) AND claim_owner IN ('', ?)", ids, s.owner)
	if err != nil {
		return fmt.Errorf("store: release notices: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, s.q(q), args...); err != nil {
		return fmt.Errorf("store: release notices: %w", err)
	}
	return nil
}

// NoticesDone marks notices delivered, with the audit events that record them, in one
// transaction. A notice already marked done (delivered twice after its lease ran out) records
// nothing more, so each notice has at most one delivery in the audit trail.
func (s *DB) NoticesDone(ctx context.Context, done []expensebot.Delivered) error {
	if len(done) == 0 {
		return nil
	}
	ids := make([]int64, len(done))
	for i, d := range done {
		ids[i] = d.NoticeID
	}
	q, args, err := sqlx.In("UPDATE outbox SET done_at = ?, claimed_until = NULL, last_error = '' WHERE done_at IS NULL AND id IN (?) AND claim_owner IN ('', ?) RETURNING id", s.now(), ids, s.owner)
	if err != nil {
		return fmt.Errorf("store: notices done: %w", err)
	}
	err = s.tx(ctx, func(tx *sqlx.Tx) error {
		var marked []int64
		var err error
		if s.dialect == Postgres {
			err = s.selectPrepared(ctx, tx, &marked, noticesDonePostgres, s.now(), pq.Array(ids), s.owner)
		} else {
			err = tx.SelectContext(ctx, &marked, s.q(q), args...)
		}
		if err != nil {
			return err
		}
		var evs []expensebot.AuditEvent
		for _, d := range done {
			if d.Event != nil && slices.Contains(marked, d.NoticeID) {
				evs = append(evs, *d.Event)
			}
		}
		return s.appendEvents(ctx, tx, evs...)
	})
	if err != nil {
		return fmt.Errorf("store: %d notices done: %w", len(done), err)
	}
	return nil
}

// RenewNotices extends the lease on notices still being delivered, those this instance still
// holds (an error wrapping ErrLostHold says some were lost or are done).
//
// Every write after a claim is fenced by its holder: claim_owner must be this instance's (or ”
// for a notice no one claimed). A stale instance whose lease ran out and was taken cannot record,
// retry, give up or hand back a notice another instance now holds.
func (s *DB) RenewNotices(ctx context.Context, ids []int64, lease time.Duration) error {
	if len(ids) == 0 {
		return nil
	}
	q, args, err := sqlx.In("UPDATE outbox SET claimed_until = ? WHERE done_at IS NULL AND id IN (?) AND claim_owner = ?", s.now().Add(lease), ids, s.owner)
	if err != nil {
		return fmt.Errorf("store: renew notices: %w", err)
	}
	res, err := s.db.ExecContext(ctx, s.q(q), args...)
	if err != nil {
		return fmt.Errorf("store: renew notices: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && int(n) < len(ids) {
		return fmt.Errorf("store: renew notices: %d of %d: %w", len(ids)-int(n), len(ids), expensebot.ErrLostHold)
	}
	return nil
}

// NoticeDone marks one notice delivered; see [DB.NoticesDone].
func (s *DB) NoticeDone(ctx context.Context, id int64, ev *expensebot.AuditEvent) error {
	return s.NoticesDone(ctx, []expensebot.Delivered{{NoticeID: id, Event: ev}})
}

// NoticeRetry releases a notice to be tried again after a delay.
func (s *DB) NoticeRetry(ctx context.Context, id int64, after time.Duration, reason string) error {
	res, err := s.db.ExecContext(ctx, s.q("UPDATE outbox SET next_attempt = ?, claimed_until = NULL, claim_owner = '', last_error = ? WHERE id = ? AND done_at IS NULL AND claim_owner IN ('', ?)"),
		s.now().Add(after), errorText(reason), id, s.owner)
	if err != nil {
		return fmt.Errorf("store: retry notice %d: %w", id, err)
	}
	return lostUnless(res, "retry notice", id)
}

// NoticeBlocked sets a notice aside that Slack refused for a reason only an administrator can fix
// (the bot is not in channel, the channel is archived or gone, the token was revoked): it is tried
// again after retry, or as soon as ReleaseBlocked says channel works. With tell, the first time an
// expense's card is blocked is recorded in the audit trail and its submitter is told, once.
func (s *DB) NoticeBlocked(ctx context.Context, n expensebot.Notice, channel, reason string, retry time.Duration, tell bool) error {
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("UPDATE outbox SET next_attempt = ?, claimed_until = NULL, claim_owner = '', last_error = ?, blocked_channel = ? WHERE id = ? AND done_at IS NULL AND claim_owner IN ('', ?)"),
			s.now().Add(retry), errorText(reason), channel, n.ID, s.owner)
		if err != nil {
			return err
		}
		if err := lostUnless(res, "block notice", n.ID); err != nil {
			return err
		}
		if !tell {
			return nil
		}
		var told int
		if err := tx.GetContext(ctx, &told, s.q("SELECT count(*) FROM audit_events WHERE expense_id = ? AND kind = ?"), n.ExpenseID, expensebot.EventReviewBlocked); err != nil {
			return err
		}
		if told > 0 {
			return nil
		}
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(n.ExpenseID, expensebot.EventReviewBlocked, expensebot.ActorSystem,
			map[string]string{"channel": channel, "reason": reason})); err != nil {
			return err
		}
		return s.addNotices(ctx, tx, expensebot.Notice{Kind: expensebot.NoticeTellSubmitter, ExpenseID: n.ExpenseID, Event: expensebot.EventReviewBlocked, Actor: expensebot.ActorSystem})
	})
	if err != nil {
		return fmt.Errorf("store: block notice %d: %w", n.ID, err)
	}
	return nil
}

// ReleaseBlocked makes the notices blocked on channel due now, and returns how many there were.
func (s *DB) ReleaseBlocked(ctx context.Context, channel string) (int, error) {
	res, err := s.db.ExecContext(ctx, s.q("UPDATE outbox SET next_attempt = ?, blocked_channel = '' WHERE blocked_channel = ? AND done_at IS NULL"), s.now(), channel)
	if err != nil {
		return 0, fmt.Errorf("store: release notices blocked on %s: %w", channel, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// NoticeFailed gives up on a notice that can never be delivered, keeping it for an operator.
func (s *DB) NoticeFailed(ctx context.Context, id int64, reason string) error {
	res, err := s.db.ExecContext(ctx, s.q("UPDATE outbox SET done_at = ?, failed = TRUE, claimed_until = NULL, last_error = ? WHERE id = ? AND done_at IS NULL AND claim_owner IN ('', ?)"),
		s.now(), errorText(reason), id, s.owner)
	if err != nil {
		return fmt.Errorf("store: fail notice %d: %w", id, err)
	}
	return lostUnless(res, "fail notice", id)
}

// PendingNotices counts notices not yet delivered.
func (s *DB) PendingNotices(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT count(*) FROM outbox WHERE done_at IS NULL"); err != nil {
		return 0, fmt.Errorf("store: count notices: %w", err)
	}
	return n, nil
}

// FirstSeen records key (a Slack event id) and reports whether this is the first time it is seen.
func (s *DB) FirstSeen(ctx context.Context, key string) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q("INSERT INTO seen_events (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"), key, s.now())
	if err != nil {
		return false, fmt.Errorf("store: record event %s: %w", key, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// maxErrorText bounds the error kept with a notice, in characters.
const maxErrorText = 500

// errorText is reason as kept with a notice: at most maxErrorText characters, cut between
// characters (a byte cut can leave invalid UTF-8, which PostgreSQL refuses: the notice could then
// never be rescheduled nor given up), and valid UTF-8 even when reason was not.
func errorText(reason string) string {
	return expensebot.Truncate(strings.ToValidUTF8(strings.ReplaceAll(reason, "\x00", ""), "\uFFFD"), maxErrorText)
}

// Backlog is the undelivered notices of one channel: the approvals channel of the cards they
// post or update, "" for DMs and callbacks.
type Backlog struct {
	Channel string    `db:"channel"`
	Count   int       `db:"n"`
	Oldest  time.Time `db:"oldest"`
}

// Backlogs counts undelivered notices per channel, with the oldest one's creation time.
func (s *DB) Backlogs(ctx context.Context) ([]Backlog, error) {
	var rows []struct {
		Channel string `db:"channel"`
		Count   int    `db:"n"`
		Oldest  string `db:"oldest"`
	}
	// MIN over a timestamp comes back as text from SQLite; it is parsed below for both engines.
	err := s.db.SelectContext(ctx, &rows, s.q(`SELECT CASE WHEN o.kind IN (?, ?) THEN '' ELSE e.review_channel END AS channel,
		count(*) AS n, CAST(MIN(o.created_at) AS TEXT) AS oldest
		FROM outbox o JOIN expenses e ON e.id = o.expense_id
		WHERE o.done_at IS NULL GROUP BY 1 ORDER BY 1`), expensebot.NoticeTellSubmitter, expensebot.NoticeCallback)
	if err != nil {
		return nil, fmt.Errorf("store: outbox backlog: %w", err)
	}
	out := make([]Backlog, len(rows))
	for i, r := range rows {
		out[i] = Backlog{Channel: r.Channel, Count: r.Count, Oldest: parseTime(r.Oldest)}
	}
	return out, nil
}

// parseTime reads a timestamp as either engine writes it as text.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999-07", "2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999+00:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// lostUnless returns an error wrapping ErrLostHold when res changed no row: the notice's claim
// passed to another instance (or it is done already), and the write was refused.
func lostUnless(res sql.Result, op string, id int64) error {
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store: %s %d: %w", op, id, expensebot.ErrLostHold)
	}
	return nil
}
