// Package api serves the approval API: a small JSON API over HTTP through which the company's
// automated workflows submit expenses for a person, wait for the human decision, and hear each
// final outcome at a callback URL, signed the way Slack signs its requests.
//
// An API submission enters the same workflow as /expense: the submitter gets the same DM (naming
// the system that submitted it), the AI check, the routing, the approvals card, the decisions and
// the audit trail are the same. What the API adds is at its edges: bearer-token clients (each
// one an audit actor, api:<name>), idempotent submission, reads that long-poll, RFC 9457 problem
// responses, per-client rate limits, and callbacks delivered through the outbox, from an HTTP
// client that follows no redirects and dials no private address it was not allowed to.
//
// [Server] holds what reads and callbacks share; [Server.Handler] binds it to the workflow as
// an http.Handler, and [Server.Callback] is the workflow's [approval.Callbacks]. The routes are
// in routes.go and are described for integrators by openapi.json, served at /v1/openapi.json.
package api

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/approval"
)

// Workflow is what the API asks of the approval workflow (*approval.Service has it).
type Workflow interface {
	Submit(ctx context.Context, e expensebot.Expense) (expensebot.Expense, bool, error)
	Currency() string
	Now() time.Time
}

// Store is what the API reads and records (*store.DB has it).
type Store interface {
	Expense(ctx context.Context, id int64) (expensebot.Expense, error)
	Events(ctx context.Context, id int64) ([]expensebot.AuditEvent, error)
	Changed(ctx context.Context, submittedBy string, since, afterChange time.Time, afterID int64, limit int) ([]expensebot.Expense, error)
	AppendEvent(ctx context.Context, ev expensebot.AuditEvent) error
	Pay(ctx context.Context, ids []int64, p expensebot.Payout) ([]expensebot.Paid, error)
	BatchExpenses(ctx context.Context, batch int64) ([]expensebot.Expense, error)
}

// Directory finds people and messages in the Slack workspace. A person who does not exist, or
// is deactivated or a bot, is an ENOTFOUND error; any other error means Slack did not answer.
type Directory interface {
	// UserByEmail returns the user id of the person with this email address.
	UserByEmail(ctx context.Context, email string) (string, error)
	// User checks that id is a person of the workspace.
	User(ctx context.Context, id string) error
	// Permalink returns a link to the message ts in channel.
	Permalink(ctx context.Context, channel, ts string) (string, error)
}

// Config is how the API is set up; zero values take the defaults noted.
type Config struct {
	Clients       []Client // who may call, from EXPENSEBOT_API_TOKENS
	WebhookSecret Secret   // signs callbacks; unset: a callback_url is refused
	CallbackAllow []string // hosts callbacks may reach over http:// or at private addresses

	Rate     float64       // requests per second per client (default 5)
	Burst    int           // requests a client may make at once (default 20)
	MaxWait  time.Duration // the longest ?wait (default 60s)
	MaxWaits int           // a client's requests waiting at once; more are answered 429 (default 20)

	CallbackTimeout    time.Duration // for one POST, answer included (default 10s)
	CallbackBackoff    time.Duration // wait after the first failure, doubling (default 5s)
	CallbackMaxBackoff time.Duration // longest wait between tries (default 1h)
	CallbackAttempts   int           // tries before giving up, about a day with the defaults (default 32)
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Rate <= 0 {
		c.Rate = 5
	}
	if c.Burst <= 0 {
		c.Burst = 20
	}
	def(&c.MaxWait, 60*time.Second)
	if c.MaxWaits <= 0 {
		c.MaxWaits = 20
	}
	def(&c.CallbackTimeout, 10*time.Second)
	def(&c.CallbackBackoff, 5*time.Second)
	def(&c.CallbackMaxBackoff, time.Hour)
	if c.CallbackAttempts < 3 {
		c.CallbackAttempts = 32
	}
}

// Server is the approval API. Its methods are safe for concurrent use.
type Server struct {
	store   Store
	dir     *directory
	cfg     Config
	log     *slog.Logger
	clients *clients
	allow   allowList
	hooks   *hookClient

	stopOnce sync.Once
	stopping chan struct{} // closed by Drain: long polls answer at once
}

var _ approval.Callbacks = (*Server)(nil)

// New returns the API over st and dir. It checks nothing of cfg: [ParseClients] and
// [ParseAllowList] have.
func New(st Store, dir Directory, cfg Config, log *slog.Logger) *Server {
	cfg.defaults()
	allow := newAllowList(cfg.CallbackAllow)
	return &Server{
		store: st, dir: newDirectory(dir), cfg: cfg, log: log,
		clients: newClients(cfg.Clients, cfg.Rate, cfg.Burst, cfg.MaxWaits), allow: allow,
		hooks: newHookClient(allow, cfg.CallbackTimeout), stopping: make(chan struct{}),
	}
}

// Drain makes requests that are waiting for a decision answer now, with the expense as it stands,
// so that a shutdown need not wait for them. Call it when the HTTP server begins to shut down.
func (s *Server) Drain() { s.stopOnce.Do(func() { close(s.stopping) }) }
