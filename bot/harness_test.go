package bot_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/bot"
	"github.com/expensebot/expensebot/cmd/expensebot/wire"
	"github.com/expensebot/expensebot/handlers"
	"github.com/expensebot/expensebot/internal/fakeopenai"
	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/metrics"
	"github.com/expensebot/expensebot/policy"
	"github.com/expensebot/expensebot/policy/openai"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
	"github.com/expensebot/expensebot/web"
)

// The people of the test workspace.
const (
	emp       = "UEMP"  // Alice, an employee
	rev1      = "UREV1" // Rita, a reviewer by user id
	rev2      = "UREV2" // Ravi, a reviewer through the group S0REV
	outsider  = "UOUT"  // Olga, not a reviewer
	approvals = "CAPPROVALS"
	general   = "CGENERAL"
)

func usd(minor int64) expensebot.Money { return expensebot.Money{Minor: minor, Currency: "USD"} }

var testRules = policy.Rules{Currency: "USD", AutoApproveMax: usd(100000), ReviewMax: usd(1000000),
	ReceiptRequiredOver: usd(7500), MinConfidence: 0.95}

type harness struct {
	t          testing.TB
	slack      *fakeslack.Server
	ai         *fakeopenai.Server
	db         *store.DB
	url        string
	logs       *syncBuffer
	runs       []*instance
	rules      policy.Rules  // what instances started from now on apply
	noAI       bool          // start instances with no AI configured, as without OPENAI_API_KEY
	quiet      bool          // log as in production (Info) and keep nothing: for benchmarks
	timerEvery time.Duration // how often timers are looked for; 0: every 50 ms, for tests whose clock jumps
	noVision   bool          // start instances with no receipt reader
	api        *api.Config   // start instances serving the approval API so configured, on 127.0.0.1:0

	rates approval.Rates // exchange rates of instances started from now on; nil for none
	// postInterval paces posts to one conversation (Options.PostInterval): 0 for the
	// product's default, negative for none.
	postInterval time.Duration

	spotRate float64        // EXPENSEBOT_SPOT_CHECK_RATE of instances started from now on (0: off)
	draw     func() float64 // the spot-check draw; nil for crypto/rand
	finance  []string       // EXPENSEBOT_FINANCE
	clock    *testClock     // every instance's and the harness's store's clock

	// What instances started from now on use for reminders, escalation and expiry.
	timing     expensebot.Timing
	escalateTo []string

	admins   []string              // EXPENSEBOT_ADMINS of instances started from now on
	setup    *handlers.SetupChecks // the setup checks their admin section shows; nil: none
	draftTTL time.Duration         // how long a draft waits; 0: the product's default
}

// testClock is the wall clock moved on by advance: time still passes (leases, retries and
// timeouts work as in production), and a test jumps over hours or days at once.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

type instance struct {
	store       *countingStore // the instance's database, counting its timer passes
	bot         *bot.Bot
	cancel      context.CancelFunc
	done        chan error
	apiURL      string // the approval API's base URL, when the harness serves it
	internalURL string // the health checks' and metrics' base URL, beside the API
}

// countingStore is an instance's database that counts the timer loop's looks for due timers, so
// that a test can wait for a complete pass that started after it moved the clock (timersRan)
// instead of sleeping and hoping the loop ran.
type countingStore struct {
	*store.DB
	looks atomic.Int64
}

func (c *countingStore) DueTimers(ctx context.Context, limit int) ([]expensebot.Expense, error) {
	defer c.looks.Add(1)
	return c.DB.DueTimers(ctx, limit)
}

// timersRan waits until every running instance has completed a timer pass that began after the
// call, then until every notice it queued is delivered: whatever a timer due now does has been
// done, and what has not happened will not (until the clock moves again).
func (h *harness) timersRan() {
	h.t.Helper()
	live := h.liveRuns()
	from := make([]int64, len(live))
	for i, in := range live {
		from[i] = in.store.looks.Load()
	}
	// Looks are sequential per instance: the look ending as from+1 may have begun before this
	// call; the one ending as from+2 began after it, and its pass has fired all it found once
	// the next look (from+3) has ended.
	h.eventually("a timer pass of every instance", func() bool {
		for i, in := range live {
			if in.store.looks.Load() < from[i]+3 {
				return false
			}
		}
		return true
	})
	h.settle()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newHarness starts a fake workspace, a fake AI and a database of the given engine; start adds
// a running bot.
func newHarness(t testing.TB, engine string) *harness {
	t.Helper()
	sl, err := fakeslack.New(
		fakeslack.User{ID: emp, Name: "alice", RealName: "Alice Employee", Email: "alice@example.com"},
		fakeslack.User{ID: rev1, Name: "rita", RealName: "Rita Reviewer"},
		fakeslack.User{ID: rev2, Name: "ravi", RealName: "Ravi Reviewer"},
		fakeslack.User{ID: outsider, Name: "olga", RealName: "Olga Outsider"},
	)
	if err != nil {
		t.Fatal(err)
	}
	sl.PingInterval = 500 * time.Millisecond
	sl.AddChannel(approvals, "expense-approvals", fakeslack.BotUser, rev1, rev2, outsider)
	sl.AddChannel(general, "general", fakeslack.BotUser, emp, rev1, rev2, outsider)
	sl.AddUserGroup("S0REV", rev2)
	ai := fakeopenai.New()
	h := &harness{t: t, slack: sl, ai: ai, url: storetest.URL(t, engine), logs: &syncBuffer{}, rules: testRules, clock: &testClock{}}
	h.db, err = store.Open(context.Background(), h.url)
	if err != nil {
		t.Fatal(err)
	}
	h.db.SetClock(h.clock.Now)
	t.Cleanup(func() {
		for _, r := range h.runs {
			r.stop()
		}
		sl.Close()
		ai.Close()
		h.db.Close()
		if t.Failed() && os.Getenv("EXPENSEBOT_TEST_LOGS") != "" {
			t.Log(h.logs.String())
		}
	})
	return h
}

// start runs one bot instance (several share the database, as replicas do).
func (h *harness) start() *instance {
	h.t.Helper()
	db, err := store.Open(context.Background(), h.url)
	if err != nil {
		h.t.Fatal(err)
	}
	db.SetClock(h.clock.Now)
	log := slog.New(slog.NewTextHandler(io.MultiWriter(h.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	if h.quiet {
		log = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	var assessor approval.Assessor = openai.NewAssessor(openai.Config{APIKey: "sk-test-key", BaseURL: h.ai.URL(), Model: "gpt-4o-mini", Timeout: 2 * time.Second})
	if h.noAI {
		assessor = nil
	}
	var reader approval.ReceiptReader = openai.NewReader(openai.Config{APIKey: "sk-test-key", BaseURL: h.ai.URL(), Model: "gpt-4o", Timeout: 2 * time.Second})
	if h.noVision {
		reader = nil
	}
	var apiCfg api.Config
	var ln, internal net.Listener
	if h.api != nil {
		apiCfg = *h.api
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			h.t.Fatal(err)
		}
		if internal, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			h.t.Fatal(err)
		}
	}
	m := metrics.New(nil)
	counting := &countingStore{DB: db}
	// The same assembly as `expensebot run`, with the test workspace's settings.
	b := wire.Assemble(wire.Options{
		Slack:    bot.Config{AppToken: fakeslack.AppToken, BotToken: fakeslack.BotToken, APIURL: h.slack.APIURL(), Workers: 8, PingInterval: 2 * time.Second, DrainTimeout: 5 * time.Second},
		Workflow: h.workflow(reader), PostInterval: h.postInterval,
		Store: counting, Assessor: assessor, Log: log,
		API: apiCfg, Metrics: m, Setup: h.setup,
	})
	connectsBefore := h.slack.Connects()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{store: counting, bot: b, cancel: cancel, done: make(chan error, 1)}
	// The HTTP host as `expensebot run` wires it: the API's listener, and an internal port for
	// the health checks and the metrics.
	served := make(chan struct{})
	if ln != nil {
		in.apiURL = "http://" + ln.Addr().String()
		in.internalURL = "http://" + internal.Addr().String()
		handler, drain := b.API()
		host := web.New(web.Options{Log: log, Connected: b.Connected, DB: db, Metrics: m, API: handler, Drain: drain,
			Clients: apiCfg.Clients, ProbeEvery: 100 * time.Millisecond, DrainTimeout: 5 * time.Second})
		go func() {
			defer close(served)
			host.Run(ctx, web.Listener{Listener: ln, Public: true}, web.Listener{Listener: internal})
		}()
	} else {
		close(served)
	}
	go func() {
		err := b.Run(ctx)
		cancel() // a Run that failed takes the HTTP host down with it
		<-served
		db.Close() // safe: Run and the HTTP host have returned, and with them every goroutine they started
		in.done <- err
	}()
	h.runs = append(h.runs, in)
	h.eventually("the new instance connects", func() bool {
		return h.slack.Connects() > connectsBefore && h.slack.Connections() == len(h.liveRuns())
	})
	return in
}

// workflow is the approval configuration of the test workspace. Timers are looked for every
// 50 ms, so that a test that moves the clock sees them fire at once.
func (h *harness) workflow(reader approval.ReceiptReader) approval.Config {
	return approval.Config{ApprovalsChannel: approvals, Reviewers: []string{rev1, "S0REV"}, Rules: h.rules, Rates: h.rates, Workers: 8,
		DrainTimeout: 5 * time.Second, Timing: h.timing, EscalateTo: h.escalateTo, TimerEvery: cmp.Or(h.timerEvery, 50*time.Millisecond),
		Now: h.clock.Now, SpotCheckRate: h.spotRate, Draw: h.draw, Finance: h.finance, Reader: reader, Admins: h.admins,
		DraftTTL: h.draftTTL}
}

func (h *harness) liveRuns() []*instance {
	var live []*instance
	for _, r := range h.runs {
		if r.cancel != nil {
			live = append(live, r)
		}
	}
	return live
}

// stop shuts an instance down as SIGTERM would and waits for it.
func (in *instance) stop() error {
	if in.cancel == nil {
		return nil
	}
	in.cancel()
	in.cancel = nil
	select {
	case err := <-in.done:
		return err
	case <-time.After(10 * time.Second):
		return context.DeadlineExceeded
	}
}

// eventually waits for cond, failing with what after waitFor.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	h.eventuallyWithin(waitFor, what, cond)
}

// waitFor is how long eventually waits for something that must happen. It bounds no speed (a
// test returns as soon as the thing happens, and a test about speed compares paces instead): it
// only stops a test that would wait forever. At 8 s, tests failed on a loaded machine under the
// race detector while the bot was merely slow.
const waitFor = 30 * time.Second

// batchWait is how long a test waits for a batch of hundreds of messages to be delivered. It
// bounds no speed (the tests that care compare one pace with another): it only stops a test
// that would otherwise wait forever, so it is far above what a loaded machine under the race
// detector takes.
const batchWait = 90 * time.Second

// eventuallyWithin waits for cond, failing with what after wait.
func (h *harness) eventuallyWithin(wait time.Duration, what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// command types /expense text as user in #general and returns the ack.
func (h *harness) command(user, text string) fakeslack.Ack {
	h.t.Helper()
	ack, err := h.slack.Command(user, general, "/expense", text)
	if err != nil {
		h.t.Fatalf("/expense %s: %v", text, err)
	}
	return ack
}

// approvalMessage waits for the approvals channel message of an expense whose text contains want.
func (h *harness) approvalMessage(expenseID int64, want string) fakeslack.Message {
	h.t.Helper()
	var found fakeslack.Message
	h.eventually("approvals message for #"+itoa(expenseID)+" containing "+want, func() bool {
		for _, m := range h.slack.Messages(approvals, "") {
			if m.ThreadTS == "" && strings.Contains(m.Visible(), "Expense #"+itoa(expenseID)+" ·") && strings.Contains(m.Visible()+string(m.Blocks), want) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// dm waits for a DM to user containing want.
func (h *harness) dm(user, want string) fakeslack.Message {
	h.t.Helper()
	var found fakeslack.Message
	h.eventually("DM to "+user+" containing "+want, func() bool {
		for _, m := range h.slack.Messages(user, user) {
			if strings.Contains(m.Text, want) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// ephemeral waits for an ephemeral message to user in channel containing want.
func (h *harness) ephemeral(user, channel, want string) {
	h.t.Helper()
	h.eventually("ephemeral to "+user+" containing "+want, func() bool {
		for _, m := range h.slack.Messages(channel, user) {
			if m.EphemeralTo == user && strings.Contains(m.Text+m.Visible(), want) {
				return true
			}
		}
		return false
	})
}

// latest waits for user's newest expense to reach status.
func (h *harness) latest(user string, status expensebot.Status) expensebot.Expense {
	h.t.Helper()
	var e expensebot.Expense
	h.eventually("an expense of "+user+" in status "+string(status), func() bool {
		list, _ := h.db.BySubmitter(context.Background(), user, 0, 1)
		if len(list) == 1 && list[0].Status == status {
			e = list[0]
			return true
		}
		return false
	})
	return e
}

func (h *harness) expense(id int64) expensebot.Expense {
	h.t.Helper()
	e, err := h.db.Expense(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

func (h *harness) events(id int64) []string {
	h.t.Helper()
	evs, err := h.db.Events(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

func count(list []string, kind string) int {
	n := 0
	for _, k := range list {
		if k == kind {
			n++
		}
	}
	return n
}

func itoa(id int64) string { b, _ := json.Marshal(id); return string(b) }

// click clicks an action on an expense's approvals message.
func (h *harness) click(user string, m fakeslack.Message, action string, id int64) {
	h.t.Helper()
	if _, err := h.slack.ClickMessageButton(user, approvals, m.TS, action+":"+itoa(id)); err != nil {
		h.t.Fatalf("%s clicks %s: %v", user, action, err)
	}
}

// modal waits for user's open modal with the given callback id.
func (h *harness) modal(user, callbackID string) fakeslack.View {
	h.t.Helper()
	var v fakeslack.View
	h.eventually(user+" sees modal "+callbackID, func() bool {
		var ok bool
		v, ok = h.slack.Modal(user)
		return ok && v.CallbackID == callbackID
	})
	return v
}
