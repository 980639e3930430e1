// Package bot is expensebot's connection to Slack: a Socket Mode client that acks every envelope
// the moment it arrives (with the handler's response payload), hands the slow work to a bounded
// pool of workers, reconnects when Slack asks, and recovers from a bad payload without stopping.
// The program is wired in cmd/expensebot, which gives the bot the [Parts] it runs besides the
// connection; [Bot.Run] owns every goroutine: on shutdown it stops taking envelopes, lets work in
// flight finish for a bounded time, cancels the rest, then stops the workflow the same way, and
// returns only when all of it has returned.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/handlers"
	"github.com/expensebot/expensebot/metrics"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// Work is the slow part of handling an envelope, run after the ack.
type Work = func(ctx context.Context)

// Handler answers Slack requests: an ack now, and work for later (*handlers.App is one).
type Handler interface {
	Command(cmd slack.SlashCommand) (ack any, work Work)
	Interaction(cb slack.InteractionCallback) (ack any, work Work)
	Event(ev slackevents.EventsAPIEvent) Work
}

// Config configures the connection.
type Config struct {
	AppToken      string // xapp-…
	BotToken      string // xoxb-…
	APIURL        string // Web API base URL ending in /
	Workers       int    // work items run at once
	CommitWorkers int    // acks waiting for a database write at once (separate, so that they never hold up the rest)
	Queue         int    // work items waiting at most before acks slow down
	PingInterval  time.Duration
	DrainTimeout  time.Duration // how long shutdown may take in all, the workflow's drain included (default 25s)
	FlowShare     time.Duration // the part of DrainTimeout kept for the workflow's drain (default half)
	HTTPClient    *http.Client
}

// NewAPI returns the Web API client for cfg; the handlers and the bot share it.
func NewAPI(cfg Config) *slack.Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second, Transport: pooledTransport()}
	}
	return slack.New(cfg.BotToken, slack.OptionAppLevelToken(cfg.AppToken), slack.OptionAPIURL(cfg.APIURL), slack.OptionHTTPClient(hc))
}

// pooledTransport keeps enough idle connections for the workers that call Slack at once: Go's
// default keeps two per host, so every further parallel call would open a new connection.
func pooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 64, 32
	return t
}

// Bot is a running Socket Mode connection.
type Bot struct {
	cfg    Config
	api    *slack.Client
	client *socketmode.Client
	h      Handler
	log    *slog.Logger

	work      chan job
	wg        sync.WaitGroup
	commits   chan commitJob // envelopes whose ack waits for a database write
	commitsWG sync.WaitGroup
	flow      interface{ Run(context.Context) error } // the workflow Run also owns; nil in New's bots

	// The approval API, served by the caller's HTTP host (assembled bots only).
	apiServer  *api.Server
	apiHandler http.Handler
	metrics    *metrics.Metrics // may be nil
	connected  atomic.Bool      // Socket Mode is connected, for /readyz
	connects   atomic.Int64

	// Ack latencies, for the benchmark and the log.
	mu      sync.Mutex
	acks    []time.Duration
	ackNext int
}

type job struct {
	kind, envelope string
	fn             Work
}

type commitJob struct {
	req    socketmode.Request
	kind   string
	commit handlers.Commit
	work   Work
	start  time.Time
}

// ackDeadline bounds a commit before its ack: Slack waits 3 seconds, and the ack must still
// travel back after the commit.
const ackDeadline = 2 * time.Second

// New returns a bot for api (see NewAPI) that dispatches to h.
func New(cfg Config, api *slack.Client, h Handler, log *slog.Logger) *Bot {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 4096
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 25 * time.Second
	}
	if cfg.CommitWorkers <= 0 {
		cfg.CommitWorkers = 64
	}
	if cfg.FlowShare <= 0 || cfg.FlowShare >= cfg.DrainTimeout {
		cfg.FlowShare = cfg.DrainTimeout / 2
	}
	var opts []socketmode.Option
	if cfg.PingInterval > 0 {
		opts = append(opts, socketmode.OptionPingInterval(cfg.PingInterval))
	}
	return &Bot{cfg: cfg, api: api, client: socketmode.New(api, opts...), h: h, log: log,
		work: make(chan job, cfg.Queue), commits: make(chan commitJob, cfg.Queue)}
}

// Parts are what a bot runs besides the Socket Mode connection; [Bot.Run] starts and stops them
// with it.
type Parts struct {
	Workflow   interface{ Run(context.Context) error } // stopped after the connection has drained
	APIServer  *api.Server                             // the approval API, for the caller's HTTP host (see [Bot.API])
	APIHandler http.Handler
	Metrics    *metrics.Metrics // may be nil: nothing is counted
}

// With gives b the parts it runs besides the connection; call it before Run.
func (b *Bot) With(p Parts) *Bot {
	b.flow, b.apiServer, b.apiHandler, b.metrics = p.Workflow, p.APIServer, p.APIHandler, p.Metrics
	return b
}

// Connected reports whether Socket Mode is connected now, for a readiness check.
func (b *Bot) Connected() bool { return b.connected.Load() }

// API returns the approval API of an assembled bot, for the caller's HTTP host to serve, and the
// function that ends its long polls when that host shuts down.
func (b *Bot) API() (h http.Handler, drain func()) {
	if b.apiServer == nil {
		return nil, func() {}
	}
	return b.apiHandler, b.apiServer.Drain
}

// ErrFatal marks errors that reconnecting will not cure (bad tokens, Socket Mode off).
var ErrFatal = errors.New("fatal")

// Run connects and works until ctx ends, then drains: it stops reading envelopes, lets the
// workers finish what they hold for up to Config.DrainTimeout, cancels what is left, and (for an
// assembled bot) then stops the workflow the same way. It returns
// once every goroutine it started has returned, with an error wrapping ErrFatal when Slack refuses
// the tokens.
func (b *Bot) Run(ctx context.Context) error {
	auth, err := b.api.AuthTestContext(ctx)
	if err != nil {
		var se slack.SlackErrorResponse
		if !errors.As(err, &se) {
			// No answer from Slack at all: the network, a proxy or SLACK_API_URL, not the token.
			return fmt.Errorf("cannot reach Slack at %s: %v (check the network, a proxy, or SLACK_API_URL)", b.cfg.APIURL, err)
		}
		return fmt.Errorf("%w: SLACK_BOT_TOKEN was refused by Slack (auth.test: %s)", ErrFatal, slackErr(err))
	}
	b.log.Info("connected to Slack", "workspace", auth.Team, "team_id", auth.TeamID, "bot", auth.User, "bot_user", auth.UserID)
	var drainBy time.Time // when the whole shutdown must be over: set when ctx ends
	if b.flow != nil {
		// The workflow stops after the connection has drained, so that the work the last
		// envelopes started is assessed and delivered before the end. It has the rest of the
		// drain time (its own drain is Config.FlowShare); past that the process exits anyway.
		flowCtx, stopFlow := context.WithCancel(context.WithoutCancel(ctx))
		flowDone := make(chan struct{})
		go func() { defer close(flowDone); b.flow.Run(flowCtx) }()
		defer func() {
			stopFlow()
			if drainBy.IsZero() {
				<-flowDone
				return
			}
			select {
			case <-flowDone:
			case <-time.After(time.Until(drainBy)):
				b.log.Error("the workflow did not stop within the drain timeout; exiting anyway (its holds and claims run out and are taken over)", "timeout", b.cfg.DrainTimeout)
			}
		}()
	}
	// Work already acked is finished even during shutdown, so it runs on a context that outlives
	// ctx until the drain timeout.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	for range b.cfg.Workers {
		b.wg.Add(1)
		go b.worker(work)
	}
	for range b.cfg.CommitWorkers {
		b.commitsWG.Add(1)
		go b.committer(work)
	}
	sockCtx, stopSocket := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSocket()
	sockErr := make(chan error, 1)
	go func() { sockErr <- b.client.RunContext(sockCtx) }()

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-sockErr:
			if err != nil && !errors.Is(err, context.Canceled) {
				runErr = fmt.Errorf("%w: Socket Mode stopped: %s (check SLACK_APP_TOKEN and that Socket Mode is on)", ErrFatal, slackErr(err))
			}
			break loop
		case evt, ok := <-b.client.Events:
			if !ok {
				break loop
			}
			b.dispatch(evt)
		}
	}
	drainBy = time.Now().Add(b.cfg.DrainTimeout)
	b.drain(cancelWork, stopSocket, drainBy.Add(-b.cfg.FlowShare))
	return runErr
}

// ackFlush is how long the connection stays open after the last ack was queued, for slack-go's
// writer to send what it holds: it writes each in microseconds, one after the other.
const ackFlush = 300 * time.Millisecond

// drain stops the bot in the order that loses no ack: envelopes are no longer read (the loop in
// Run has ended: Slack redelivers what no one acked); the commits that acks wait for finish and
// their acks are queued while the connection is still open, and written; only then is the
// connection closed. Then the workers finish what they hold until by, and the rest is cancelled.
func (b *Bot) drain(cancelWork, stopSocket context.CancelFunc, by time.Time) {
	close(b.commits)
	b.commitsWG.Wait() // each is bounded by its envelope's ack deadline
	time.Sleep(ackFlush)
	stopSocket()
	close(b.work)
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		b.log.Info("stopped; work in flight finished")
	case <-time.After(time.Until(by)):
		b.log.Warn("work in flight cancelled at the drain timeout", "timeout", b.cfg.DrainTimeout)
		cancelWork()
		<-done
	}
}

func slackErr(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return err.Error()
}

// dispatch acks one event's envelope at once and queues its work. A panic on a payload is
// logged and that envelope dropped; the bot goes on.
func (b *Bot) dispatch(evt socketmode.Event) {
	start := time.Now()
	var envelope string
	if evt.Request != nil {
		envelope = evt.Request.EnvelopeID
	}
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("panic handling envelope", "envelope_id", envelope, "type", evt.Type, "panic", r, "stack", string(debug.Stack()))
			if envelope != "" {
				b.ack(*evt.Request, nil, start)
			}
		}
	}()
	var ack any
	var work Work
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			break
		}
		ack, work = b.h.Command(cmd)
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			break
		}
		ack, work = b.h.Interaction(cb)
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok {
			break
		}
		work = b.h.Event(ev)
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not parse the envelope and did not ack it; ack it ourselves so Slack
		// does not redeliver what will never parse.
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
				b.ack(socketmode.Request{EnvelopeID: env.EnvelopeID}, nil, start)
			}
			b.log.Warn("unreadable envelope acked and dropped", "envelope_id", env.EnvelopeID, "err", bad.Cause)
		}
		return
	case socketmode.EventTypeConnecting:
		b.log.Info("connecting to Slack")
		return
	case socketmode.EventTypeConnected:
		b.log.Info("Socket Mode connected")
		b.connected.Store(true)
		if b.connects.Add(1) > 1 {
			b.metrics.Reconnected()
		}
		return
	case socketmode.EventTypeConnectionError:
		b.log.Warn("Socket Mode connection error; retrying", "err", evt.Data)
		b.connected.Store(false)
		return
	case socketmode.EventTypeDisconnect:
		b.log.Info("Slack asked to reconnect")
		b.connected.Store(false)
		return
	case socketmode.EventTypeInvalidAuth:
		b.log.Error("Slack refused SLACK_APP_TOKEN")
		return
	default:
		return
	}
	if evt.Request == nil {
		return
	}
	if c, ok := ack.(handlers.Commit); ok {
		// The ack says whether the submission was saved, so it waits for the commit, on a pool of
		// its own: a slow database never holds up the envelopes that ack at once.
		b.commits <- commitJob{req: *evt.Request, kind: string(evt.Type), commit: c, work: work, start: start}
		return
	}
	b.ack(*evt.Request, ack, start)
	b.queue(string(evt.Type), envelope, work)
}

// ackLife is how long after an envelope's arrival its ack is still worth sending: Slack waits 3 s.
const ackLife = 3 * time.Second

// ack answers an envelope, with a payload if there is one, and reports whether the ack was
// handed to the connection's writer. It never waits past the envelope's life: slack-go's queue of
// responses is small, and with no connection writing it an ack would otherwise wait forever.
func (b *Bot) ack(req socketmode.Request, payload any, start time.Time) bool {
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(ackLife))
	defer cancel()
	err := b.client.AckCtx(ctx, req.EnvelopeID, payload)
	if err != nil && payload != nil && ctx.Err() == nil {
		b.log.Error("ack with payload failed; acking plain", "envelope_id", req.EnvelopeID, "err", err)
		err = b.client.AckCtx(ctx, req.EnvelopeID, nil)
	}
	if err != nil {
		b.log.Error("ack not sent: the envelope's time ran out", "envelope_id", req.EnvelopeID, "err", err)
		return false
	}
	b.recordAck(time.Since(start))
	return true
}

func (b *Bot) queue(kind, envelope string, work Work) {
	if work != nil {
		b.work <- job{kind: kind, envelope: envelope, fn: work}
	}
}

// committer runs the commits that acks wait for, each within ackDeadline of its envelope's
// arrival, and acks with what it returns.
func (b *Bot) committer(ctx context.Context) {
	defer b.commitsWG.Done()
	for j := range b.commits {
		b.commitOne(ctx, j)
	}
}

func (b *Bot) commitOne(ctx context.Context, j commitJob) {
	acked := false
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("panic committing envelope", "envelope_id", j.req.EnvelopeID, "kind", j.kind, "panic", r, "stack", string(debug.Stack()))
			if !acked {
				b.ack(j.req, nil, j.start)
			}
		}
	}()
	cctx, cancel := context.WithDeadline(ctx, j.start.Add(ackDeadline))
	payload := j.commit(cctx)
	cancel()
	b.ack(j.req, payload, j.start)
	acked = true
	b.queue(j.kind, j.req.EnvelopeID, j.work)
}

func (b *Bot) worker(ctx context.Context) {
	defer b.wg.Done()
	for j := range b.work {
		b.run(ctx, j)
	}
}

func (b *Bot) run(ctx context.Context, j job) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("panic in work", "envelope_id", j.envelope, "kind", j.kind, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	j.fn(ctx)
}

// ackWindow is how many recent ack latencies are kept: enough for percentiles, a fixed 512 KB.
const ackWindow = 1 << 16

func (b *Bot) recordAck(d time.Duration) {
	b.metrics.Ack(d)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.acks) < ackWindow {
		b.acks = append(b.acks, d)
	} else {
		b.acks[b.ackNext] = d
	}
	b.ackNext = (b.ackNext + 1) % ackWindow
}

// AckLatencies returns the time from reading each envelope to queueing its ack, for the latest
// envelopes (at most ackWindow of them).
func (b *Bot) AckLatencies() []time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]time.Duration(nil), b.acks...)
}
