package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// The crash tests run the real binary and stop it as an operator or the kernel would: SIGKILL
// leaves no chance to finish anything, which only a separate process shows. Each runs on both
// engines at once.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds expensebot once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "expensebot-crash-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "expensebot")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// crashRig is a fake workspace, a database and the binary started against them.
type crashRig struct {
	t     *testing.T
	slack *fakeslack.Server
	dbURL string
	db    *store.DB
	procs []*exec.Cmd
	logs  syncWriter
	env   []string // more variables for the binary
}

const (
	crashEmp = "UEMP"
	crashRev = "UREV"
	crashApp = "CAPP"
	crashGen = "CGEN"
)

func newCrashRig(t *testing.T, engine string) *crashRig {
	sl, err := fakeslack.New(fakeslack.User{ID: crashEmp, Name: "emp", RealName: "Em Ployee"}, fakeslack.User{ID: crashRev, Name: "rev", RealName: "Re Viewer"})
	if err != nil {
		t.Fatal(err)
	}
	sl.AddChannel(crashApp, "approvals", fakeslack.BotUser, crashRev)
	sl.AddChannel(crashGen, "general", fakeslack.BotUser, crashEmp, crashRev)
	r := &crashRig{t: t, slack: sl, dbURL: storetest.URL(t, engine)}
	// Migrated before the first start, so that the checks below can read it at any time.
	if r.db, err = store.Open(context.Background(), r.dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range r.procs {
			p.Process.Kill()
			p.Wait()
		}
		r.db.Close()
		sl.Close()
		if t.Failed() {
			t.Logf("bot logs:\n%s", r.logs.String())
		}
	})
	return r
}

// start runs the binary (no AI: every expense goes to a reviewer, so each has a card and a DM)
// and waits until it is connected.
func (r *crashRig) start() *exec.Cmd {
	r.t.Helper()
	cmd := exec.Command(binary(r.t))
	cmd.Env = []string{"SLACK_APP_TOKEN=" + fakeslack.AppToken, "SLACK_BOT_TOKEN=" + fakeslack.BotToken,
		"SLACK_API_URL=" + r.slack.APIURL(), "DATABASE_URL=" + r.dbURL, "EXPENSEBOT_APPROVALS_CHANNEL=" + crashApp,
		"EXPENSEBOT_REVIEWERS=" + crashRev, "EXPENSEBOT_LOG_FORMAT=json"}
	cmd.Env = append(cmd.Env, r.env...)
	cmd.Stdout, cmd.Stderr = &r.logs, &r.logs
	before := r.slack.Connects() // a count that only grows: a killed bot's socket closes in its own time
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.procs = append(r.procs, cmd)
	deadline := time.Now().Add(20 * time.Second)
	for r.slack.Connects() <= before {
		if time.Now().After(deadline) {
			r.t.Fatal("the bot did not connect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd
}

func (r *crashRig) kill(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

// submit sends n quick submissions at once and returns the expense ids their acks name.
func (r *crashRig) submit(n int) []int64 {
	r.t.Helper()
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ack, err := r.slack.Command(crashEmp, crashGen, "/expense", fmt.Sprintf("%d Conference dinner %d", 2000+i, i))
			if err != nil {
				r.t.Errorf("command %d: %v", i, err)
				return
			}
			var body struct{ Text string }
			json.Unmarshal(ack.Payload, &body)
			m := regexp.MustCompile(`Received your expense #(\d+)`).FindStringSubmatch(body.Text)
			if m == nil {
				r.t.Errorf("ack %d does not say received: %s", i, ack.Payload)
				return
			}
			ids[i], _ = strconv.ParseInt(m[1], 10, 64)
		})
	}
	wg.Wait()
	return ids
}

// cards returns the approval cards posted for expense id.
func (r *crashRig) cards(id int64) []fakeslack.Message {
	var out []fakeslack.Message
	for _, m := range r.slack.Messages(crashApp, "") {
		if m.ThreadTS == "" && m.EphemeralTo == "" && strings.HasPrefix(m.Text, fmt.Sprintf("Expense #%d from", id)) {
			out = append(out, m)
		}
	}
	return out
}

// routedDMs counts the DMs telling the submitter that expense id went to a reviewer.
func (r *crashRig) routedDMs(id int64) int {
	n := 0
	for _, m := range r.slack.Messages(crashEmp, crashEmp) {
		if strings.Contains(m.Text, fmt.Sprintf("Your expense #%d (", id)) && strings.Contains(m.Text, "went to a reviewer") {
			n++
		}
	}
	return n
}

// settled waits until every expense in ids is pending review with its card recorded, exactly one
// card and one DM each, and fails on anything said twice. Cards and DMs go out at Slack's pace
// of one a second per conversation, so the wait allows a second for each expense.
func (r *crashRig) settled(ids []int64) {
	r.t.Helper()
	deadline := time.Now().Add(40*time.Second + time.Duration(len(ids))*time.Second)
	for {
		var waiting []string
		for _, id := range ids {
			e, err := r.db.Expense(context.Background(), id)
			cards, dms := r.cards(id), r.routedDMs(id)
			if len(cards) > 1 || dms > 1 {
				r.t.Fatalf("expense #%d was said twice: %d cards, %d DMs", id, len(cards), dms)
			}
			switch {
			case err != nil:
				waiting = append(waiting, fmt.Sprintf("#%d: %v", id, err))
			case e.Status != expensebot.StatusPendingReview || len(cards) != 1 || dms != 1 || e.ReviewMessageTS != cards[0].TS:
				waiting = append(waiting, fmt.Sprintf("#%d: %s, %d cards, %d DMs, card ts recorded %q", id, e.Status, len(cards), dms, e.ReviewMessageTS))
			}
		}
		if len(waiting) == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("not settled: %s", strings.Join(waiting, "; "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func eachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fn(t, engine)
		})
	}
}

// TestKillAfterAckLosesNothing: every submission the bot acked as received survives a kill -9 at
// once after the acks, and after a restart is routed, posted and told exactly once.
func TestKillAfterAckLosesNothing(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		r := newCrashRig(t, engine)
		r.slack.SetLatency("chat.postMessage", 100*time.Millisecond, 300*time.Millisecond)
		first := r.start()
		ids := r.submit(20)
		r.kill(first)
		for _, id := range ids {
			if _, err := r.db.Expense(context.Background(), id); err != nil {
				t.Errorf("acked expense #%d is gone after kill -9: %v", id, err)
			}
		}
		r.slack.SetLatency("chat.postMessage", 0, 0)
		r.start()
		r.settled(ids)
	})
}

// TestKillBetweenPostAndRecord: Slack took the approval card, the bot died before recording it.
// The restarted bot finds the card by its metadata instead of posting a second one with live
// buttons, and a click on it updates it in place.
func TestKillBetweenPostAndRecord(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		r := newCrashRig(t, engine)
		r.slack.SetLatency("chat.postMessage", 5*time.Second, 5*time.Second)
		first := r.start()
		ids := r.submit(1)
		deadline := time.Now().Add(20 * time.Second)
		for len(r.cards(ids[0])) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no card was posted")
			}
			time.Sleep(5 * time.Millisecond)
		}
		r.kill(first) // the card is in Slack; its answer is still on the way
		r.slack.SetLatency("chat.postMessage", 0, 0)
		r.start()
		r.settled(ids)
		card := r.cards(ids[0])[0]
		if _, err := r.slack.ClickMessageButton(crashRev, crashApp, card.TS, fmt.Sprintf("approve:%d", ids[0])); err != nil {
			t.Fatal(err)
		}
		deadline = time.Now().Add(20 * time.Second)
		for {
			cards := r.cards(ids[0])
			if len(cards) == 1 && cards[0].Edited && strings.Contains(cards[0].Visible(), "*Approved* by") {
				break
			}
			if len(cards) != 1 || time.Now().After(deadline) {
				t.Fatalf("the card was not updated in place: %d cards", len(cards))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestSigtermWithPostsInFlight: SIGTERM while Slack is slow to answer posts. The bot stops
// claiming, lets the posts in flight finish and records them; the next start says nothing again.
func TestSigtermWithPostsInFlight(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		r := newCrashRig(t, engine)
		r.slack.SetLatency("chat.postMessage", 100*time.Millisecond, 300*time.Millisecond)
		first := r.start()
		ids := r.submit(10)
		deadline := time.Now().Add(20 * time.Second)
		for len(r.slack.Calls("chat.postMessage")) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("nothing was posted")
			}
			time.Sleep(2 * time.Millisecond)
		}
		first.Process.Signal(syscall.SIGTERM)
		exited := make(chan error, 1)
		go func() { exited <- first.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("SIGTERM: exit %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Fatal("the bot did not stop after SIGTERM")
		}
		r.procs = r.procs[1:] // waited for already
		r.slack.SetLatency("chat.postMessage", 0, 0)
		r.start()
		r.settled(ids)
	})
}
