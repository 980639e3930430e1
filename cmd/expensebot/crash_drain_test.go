package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeopenai"
	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/store"
)

// These tests hold the bounds with the real binary: a stop finishes within
// EXPENSEBOT_DRAIN_TIMEOUT whatever is in flight, no submitter is told one thing while the
// database says another, and work a dead instance held is resumed within 15 s.

// withAI turns the AI check on, against a fake provider that answers at once. With it, the old
// hold on an assessment lasted 5 s + 4 × EXPENSEBOT_AI_TIMEOUT (45 s by default).
func (r *crashRig) withAI() {
	ai := fakeopenai.New()
	r.t.Cleanup(ai.Close)
	r.env = append(r.env, "OPENAI_API_KEY=sk-test", "OPENAI_BASE_URL="+ai.URL())
}

// settledWithin waits until every expense in ids has its outcome recorded (routed: here, to a
// reviewer), fails when that took longer than bound since from, and then checks that each is
// posted and told exactly once. The posts themselves go out at Slack's pace of one a second per
// conversation (20 cards for one channel take ~17 s), which is not what the bound is about.
func (r *crashRig) settledWithin(ids []int64, from time.Time, bound time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(bound + 30*time.Second)
	for {
		left := 0
		for _, id := range ids {
			if e, err := r.db.Expense(context.Background(), id); err != nil || !e.Status.Routed() {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d acked expenses have no outcome %s after the restart (or the kill)", left, time.Since(from).Round(time.Millisecond))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(from); took > bound {
		r.t.Errorf("the acked expenses reached their outcome %s after the restart (or the kill); want within %s", took.Round(time.Millisecond), bound)
	} else {
		r.t.Logf("the acked expenses reached their outcome %s after the restart (or the kill)", took.Round(time.Millisecond))
	}
	r.settled(ids)
}

// TestKillAfterAcksResumesWithin15s: kill -9 at once after 20 acks, with the AI check on (the
// assessments are held). After the restart every acked expense reaches its outcome within 15 s.
func TestKillAfterAcksResumesWithin15s(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		r := newCrashRig(t, engine)
		r.withAI()
		first := r.start()
		ids := r.submit(20)
		r.kill(first)
		restart := time.Now()
		r.start()
		r.settledWithin(ids, restart, 15*time.Second)
	})
}

// TestSurvivorFinishesWithin15s: two instances share the workspace and the database; one is
// killed at once after the acks. The survivor finishes the dead one's work within 15 s.
func TestSurvivorFinishesWithin15s(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		r := newCrashRig(t, engine)
		r.withAI()
		r.start() // the survivor
		doomed := r.start()
		ids := r.submit(20) // Slack hands the envelopes to both connections in turn
		r.kill(doomed)
		killed := time.Now()
		r.settledWithin(ids, killed, 15*time.Second)
	})
}

// outcome is what a submitter was told in answer to a submission.
type outcome struct {
	id      int64 // the expense the ack named as received; 0 if none
	noAck   bool  // Slack's operation_timeout
	refused string
}

// submitAll sends n quick submissions at once and returns what each submitter was told.
func (r *crashRig) submitAll(n int) []outcome {
	out := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ack, err := r.slack.Command(crashEmp, crashGen, "/expense", fmt.Sprintf("%d Conference dinner %d", 2000+i, i))
			if errors.Is(err, fakeslack.ErrNoAck) {
				out[i].noAck = true
				return
			}
			if err != nil {
				out[i].refused = err.Error()
				return
			}
			var body struct{ Text string }
			json.Unmarshal(ack.Payload, &body)
			if m := regexp.MustCompile(`Received your expense #(\d+)`).FindStringSubmatch(body.Text); m != nil {
				out[i].id, _ = strconv.ParseInt(m[1], 10, 64)
			} else {
				out[i].refused = body.Text
			}
		})
	}
	wg.Wait()
	return out
}

// lockExpenses holds the expenses table from another connection, as a long migration or a
// vacuum would, until the returned function is called.
func lockExpenses(t *testing.T, engine, dbURL string) (release func()) {
	t.Helper()
	var db *sql.DB
	var err error
	if engine == store.SQLite {
		// The bot writes briefly at start (its rules, pruning, names): the test's lock waits for
		// that write to end instead of failing with SQLITE_BUSY.
		db, err = sql.Open("sqlite", "file:"+strings.TrimPrefix(dbURL, "sqlite://")+"?_pragma=busy_timeout(10000)")
	} else {
		db, err = sql.Open("postgres", dbURL)
	}
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lock := "BEGIN; LOCK TABLE expenses IN EXCLUSIVE MODE"
	if engine == store.SQLite {
		lock = "BEGIN IMMEDIATE" // the write lock of the whole file
	}
	for q := range strings.SplitSeq(lock, "; ") {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// TestSigtermDrainsWithinTimeout: SIGTERM while submissions are being committed, on both engines.
//   - locked: 60 submissions in two waves 1.2 s apart wait for a table another connection
//     holds; SIGTERM follows the second wave, and the lock is let go 1 s later: after the first
//     wave's 2 s ran out, within the second's.
//   - busy: 60 submissions arrive and SIGTERM follows at once.
//
// The process exits within EXPENSEBOT_DRAIN_TIMEOUT. Every submitter told "received" has an
// expense that reaches exactly one outcome after the restart, and no expense exists that its
// submitter was not told of (told "not saved", or Slack's operation_timeout): a submission
// typed again is never paid twice.
func TestSigtermDrainsWithinTimeout(t *testing.T) {
	for _, locked := range []bool{true, false} {
		name := map[bool]string{true: "locked", false: "busy"}[locked]
		t.Run(name, func(t *testing.T) {
			eachEngine(t, func(t *testing.T, engine string) {
				const drain = 10 * time.Second
				r := newCrashRig(t, engine)
				r.env = append(r.env, "EXPENSEBOT_DRAIN_TIMEOUT="+drain.String())
				first := r.start()
				release := func() {}
				if locked {
					release = lockExpenses(t, engine, r.dbURL)
				}
				// Two waves of 30: with the table locked, the first wave's 2 s run out before
				// the lock is let go (told "not saved"), the second's do not (saved and acked
				// during the drain).
				told := make(chan []outcome, 2)
				go func() { told <- r.submitAll(30) }()
				if locked {
					time.Sleep(1200 * time.Millisecond)
				}
				go func() { told <- r.submitAll(30) }()
				time.Sleep(300 * time.Millisecond) // the submissions are waiting for their commit
				first.Process.Signal(syscall.SIGTERM)
				stopped := time.Now()
				exited := make(chan error, 1)
				go func() { exited <- first.Wait() }()
				time.AfterFunc(time.Second, release) // after the first wave's 2 s, within the second's
				select {
				case err := <-exited:
					if err != nil {
						t.Errorf("SIGTERM: exit %v", err)
					}
				case <-time.After(drain + 30*time.Second):
					t.Fatal("the bot did not stop after SIGTERM")
				}
				// The bound is the drain timeout; the process's own exit (closing the
				// database, the listeners) is allowed a second more on a loaded machine.
				if took := time.Since(stopped); took > drain+time.Second {
					t.Errorf("the bot took %s to stop; want within EXPENSEBOT_DRAIN_TIMEOUT (%s)", took.Round(time.Millisecond), drain)
				} else {
					t.Logf("the bot stopped %s after SIGTERM", took.Round(time.Millisecond))
				}
				r.procs = r.procs[1:] // waited for already
				release()
				outcomes := append(<-told, <-told...)
				var ids []int64
				var noAck, refused int
				for _, o := range outcomes {
					switch {
					case o.id != 0:
						ids = append(ids, o.id)
					case o.noAck:
						noAck++
					default:
						refused++
					}
				}
				t.Logf("%d received, %d told not saved, %d without an ack", len(ids), refused, noAck)
				r.start()
				r.settled(ids)
				stored, err := r.db.BySubmitter(context.Background(), crashEmp, 0, 1000)
				if err != nil {
					t.Fatal(err)
				}
				if len(stored) != len(ids) {
					t.Errorf("%d expenses stored, but %d submitters were told theirs was received: %d were told otherwise and saved anyway",
						len(stored), len(ids), len(stored)-len(ids))
				}
			})
		})
	}
}
