package bot

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/delivery"
	"github.com/expensebot/expensebot/handlers"
	"github.com/expensebot/expensebot/home"
	"github.com/expensebot/expensebot/lookup"
	"github.com/expensebot/expensebot/metrics"
	"github.com/expensebot/expensebot/slackpace"
)

// Options is everything the program runs with, built by cmd/expensebot from the configuration and
// by the end-to-end tests from theirs.
type Options struct {
	Slack    Config
	Workflow approval.Config
	// PostInterval paces posts to one conversation (0: Slack's pace of one a second, a burst of
	// 3; negative: none).
	PostInterval time.Duration
	Store        Store
	Assessor     approval.Assessor // nil: the AI check is off
	Log          *slog.Logger

	API     api.Config       // clients, webhook secret and callback rules of the approval API
	HTTP    net.Listener     // serves the approval API, /healthz and /metrics when set; Run shuts it down with the rest
	Metrics *metrics.Metrics // nil: nothing is counted and /metrics is not served
}

// Store is what the program needs of persistence (*store.DB has it).
type Store interface {
	approval.Store
	delivery.Store
	home.Store
	lookup.Store
	api.Store
	Ping(ctx context.Context) error
}

// Assemble wires the program: the Web API client, the Slack edge, the approval workflow over
// o.Store, the approval API, and the Socket Mode connection. Run the returned bot to start it all.
func Assemble(o Options) *Bot {
	api := NewAPI(o.Slack)
	msg := handlers.NewMessenger(api, o.Log, o.Metrics)
	if o.Metrics != nil {
		o.Workflow.Observer = o.Metrics
	}
	// The approval API delivers the workflow's callbacks even with no listener: notices queued
	// while it served must still go out.
	apiServer := newAPI(o.Store, directory{api}, o.API, o.Log)
	o.Workflow.Callbacks = apiServer
	o.Workflow.Files = msg
	flow := approval.New(o.Store, o.Assessor, msg, msg, o.Workflow, o.Log)
	// Slack's pace is kept on the Slack side; the rooms beside the workflow only ask it.
	pace := slackpace.New(o.PostInterval)
	flow.Attach(approval.Rooms{
		Outbox: delivery.New(o.Store, flow.Notices(), delivery.Config{ApprovalsChannel: o.Workflow.ApprovalsChannel, Pacer: pace}, o.Log),
		Homes:  home.New(o.Store, flow.Rights(), msg, home.Config{Rules: o.Workflow.Rules, Now: o.Workflow.Now, Pacer: pace}, o.Log),
		// Slack is also where names and receipt files are looked up, for the exports' caches.
		Lookups: lookup.New(msg, o.Store, o.Workflow.Now, o.Log),
	})
	b := New(o.Slack, api, handlers.New(flow, api, o.Log), o.Log)
	b.flow, b.metrics, b.store = flow, o.Metrics, o.Store
	b.apiServer, b.apiHandler, b.ln = apiServer, apiServer.Handler(flow), o.HTTP
	return b
}
