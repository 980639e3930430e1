package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/notify"
)

// outbox is an in-memory outbox: it hands out each queued notice once and records what becomes
// of it.
type outbox struct {
	mu       sync.Mutex
	queued   []expensebot.Notice
	done     []int64
	retried  map[int64]time.Duration
	failed   []int64
	blocked  map[int64]string // notice → channel
	released []int64
}

func newOutbox(ns ...expensebot.Notice) *outbox {
	return &outbox{queued: ns, retried: map[int64]time.Duration{}, blocked: map[int64]string{}}
}

func (o *outbox) ClaimNotices(_ context.Context, limit int, _ time.Duration) ([]expensebot.Notice, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := min(limit, len(o.queued))
	out := slices.Clone(o.queued[:n])
	o.queued = o.queued[n:]
	return out, nil
}
func (o *outbox) RenewNotices(context.Context, []int64, time.Duration) error { return nil }
func (o *outbox) ReleaseNotices(_ context.Context, ids []int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.released = append(o.released, ids...)
	return nil
}
func (o *outbox) NoticesDone(_ context.Context, done []expensebot.Delivered) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, d := range done {
		o.done = append(o.done, d.NoticeID)
	}
	return nil
}
func (o *outbox) NoticeRetry(_ context.Context, id int64, after time.Duration, _ string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retried[id] = after
	return nil
}
func (o *outbox) NoticeFailed(_ context.Context, id int64, _ string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed = append(o.failed, id)
	return nil
}
func (o *outbox) NoticeBlocked(_ context.Context, n expensebot.Notice, channel, _ string, _ time.Duration, _ bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.blocked[n.ID] = channel
	return nil
}

// sent is one send, at the bubble's time since the start.
type sent struct {
	id int64
	at time.Duration
}

// sender records what it sends and fails as fail says (nil: everything gets through).
type sender struct {
	start time.Time
	fail  func(n expensebot.Notice, try int) error

	mu    sync.Mutex
	sends []sent
	tries map[int64]int
}

func (s *sender) Send(_ context.Context, n expensebot.Notice, _ *expensebot.Expense) (*expensebot.AuditEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tries == nil {
		s.tries = map[int64]int{}
	}
	s.tries[n.ID]++
	if s.fail != nil {
		if err := s.fail(n, s.tries[n.ID]); err != nil {
			return nil, err
		}
	}
	s.sends = append(s.sends, sent{n.ID, time.Since(s.start)})
	return nil, nil
}

func (s *sender) Channel(_ context.Context, n expensebot.Notice) string { return "C-" + n.Dest }

func (s *sender) at(id int64) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.sends {
		if x.id == id {
			return x.at, true
		}
	}
	return 0, false
}

func (s *sender) order() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	for _, x := range s.sends {
		ids = append(ids, x.id)
	}
	return ids
}

// pacer lets one post a second into each conversation, and keeps the pauses it is given.
type pacer struct {
	mu     sync.Mutex
	next   map[string]time.Time
	paused map[string]time.Time
}

func newPacer() *pacer { return &pacer{next: map[string]time.Time{}, paused: map[string]time.Time{}} }

func (p *pacer) Wait(conv string, _ expensebot.Notice, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := p.paused[conv]; until.After(now) {
		return until.Sub(now)
	}
	if next := p.next[conv]; next.After(now) {
		return next.Sub(now)
	}
	p.next[conv] = now.Add(time.Second)
	return 0
}

func (p *pacer) Pause(conv, _ string, d time.Duration, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused[conv] = now.Add(d)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func card(id int64) expensebot.Notice {
	return expensebot.Notice{ID: id, ExpenseID: id, Kind: expensebot.NoticePostReview, Dest: "CAPP"}
}

func dm(id int64, user string) expensebot.Notice {
	return expensebot.Notice{ID: id, ExpenseID: id, Kind: expensebot.NoticeTellSubmitter, Dest: user}
}

// run delivers ob's notices through send for d of the bubble's time, then stops the Deliverer and
// waits for it.
func run(ob *outbox, send *sender, p Pacer, d time.Duration) {
	send.start = time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	dl := New(ob, send, Config{ApprovalsChannel: "CAPP", Pacer: p}, quiet)
	done := make(chan struct{})
	go func() { defer close(done); dl.Run(ctx, context.Background()) }()
	time.Sleep(d)
	synctest.Wait()
	cancel()
	<-done
}

// TestBusyChannelDoesNotHoldUpDMs: five cards for one channel paced at one a second, and three
// DMs, are due at once. The DMs go out at once; the cards go out a second apart, in order, each
// once, and every one is recorded as done.
func TestBusyChannelDoesNotHoldUpDMs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ob := newOutbox(card(1), card(2), card(3), card(4), card(5), dm(6, "U1"), dm(7, "U2"), dm(8, "U3"))
		send := &sender{}
		run(ob, send, newPacer(), 10*time.Second)
		for _, id := range []int64{6, 7, 8} {
			if at, ok := send.at(id); !ok || at != 0 {
				t.Errorf("DM %d sent at +%s (sent: %v), want at once", id, at, ok)
			}
		}
		var cards []int64
		for _, id := range send.order() {
			if id <= 5 {
				cards = append(cards, id)
			}
		}
		if !slices.Equal(cards, []int64{1, 2, 3, 4, 5}) {
			t.Errorf("cards sent %v, want each once, in order", cards)
		}
		for i := range int64(5) {
			if at, _ := send.at(i + 1); at != time.Duration(i)*time.Second {
				t.Errorf("card %d sent at +%s, want +%ds", i+1, at, i)
			}
		}
		slices.Sort(ob.done)
		if !slices.Equal(ob.done, []int64{1, 2, 3, 4, 5, 6, 7, 8}) || len(ob.released) > 0 {
			t.Errorf("done %v, released %v: want all done once, none handed back", ob.done, ob.released)
		}
	})
}

// TestRetryAfterWaitsInItsLane: Slack asks the channel to wait 3 s. The card stays first in its
// lane and goes out after the pause, before the next card; a DM elsewhere is not delayed, and
// nothing is written to the outbox for the pause.
func TestRetryAfterWaitsInItsLane(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ob := newOutbox(card(1), card(2), dm(3, "U1"))
		send := &sender{fail: func(n expensebot.Notice, try int) error {
			if n.ID == 1 && try == 1 {
				return &notify.RetryAfterError{Wait: 3 * time.Second, Method: "chat.postMessage", Err: errors.New("ratelimited")}
			}
			return nil
		}}
		run(ob, send, newPacer(), 10*time.Second)
		if at, _ := send.at(3); at != 0 {
			t.Errorf("DM sent at +%s, want at once", at)
		}
		if at, _ := send.at(1); at != 3*time.Second {
			t.Errorf("card 1 sent at +%s, want after the 3 s pause", at)
		}
		if got := send.order(); !slices.Equal(got[1:], []int64{1, 2}) {
			t.Errorf("sent %v, want card 1 before card 2", got)
		}
		if len(ob.retried) > 0 || len(ob.failed) > 0 {
			t.Errorf("a pause was written to the outbox: retried %v, failed %v", ob.retried, ob.failed)
		}
	})
}

// TestFailuresAreRecorded: a failure backs off through the outbox, a permanent one is given up
// on its third attempt, and a blocked channel waits for an administrator, named.
func TestFailuresAreRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		flaky, perm, blocked := dm(1, "U1"), dm(2, "U2"), card(3)
		flaky.Attempts, perm.Attempts = 3, 2
		ob := newOutbox(flaky, perm, blocked)
		send := &sender{fail: func(n expensebot.Notice, _ int) error {
			switch n.ID {
			case 1:
				return errors.New("connection reset")
			case 2:
				return &notify.PermanentError{Err: errors.New("channel_not_found")}
			}
			return &notify.BlockedError{Err: errors.New("not_in_channel")}
		}}
		run(ob, send, newPacer(), time.Second)
		if got := ob.retried[1]; got != 8*time.Second {
			t.Errorf("fourth attempt retried after %s, want 8s", got)
		}
		if !slices.Equal(ob.failed, []int64{2}) {
			t.Errorf("failed %v, want the permanent failure given up", ob.failed)
		}
		if got := ob.blocked[3]; got != "C-CAPP" {
			t.Errorf("blocked %v, want the card blocked on its channel", ob.blocked)
		}
		if len(ob.done) > 0 {
			t.Errorf("done %v, want none", ob.done)
		}
	})
}

// TestStopHandsBackWhatWaits: at shutdown the cards still waiting for their pace are handed back
// at once, for any instance to take; the one sent is recorded, and none is sent twice.
func TestStopHandsBackWhatWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ob := newOutbox(card(1), card(2), card(3))
		send := &sender{}
		run(ob, send, newPacer(), 500*time.Millisecond)
		if got := send.order(); !slices.Equal(got, []int64{1}) {
			t.Errorf("sent %v before the stop, want card 1", got)
		}
		slices.Sort(ob.released)
		if !slices.Equal(ob.done, []int64{1}) || !slices.Equal(ob.released, []int64{2, 3}) {
			t.Errorf("done %v, released %v: want 1 done, 2 and 3 handed back", ob.done, ob.released)
		}
	})
}
