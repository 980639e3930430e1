package bot

import (
	"context"
	"log/slog"

	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/handlers"
	"github.com/expensebot/expensebot/metrics"
	"github.com/expensebot/expensebot/web"
)

// Options is everything the program runs with, built by cmd/expensebot from the configuration and
// by the end-to-end tests from theirs.
type Options struct {
	Slack    Config
	Workflow approval.Config
	Store    Store
	Assessor approval.Assessor // nil: the AI check is off
	Log      *slog.Logger

	API     api.Config       // clients, webhook secret and callback rules of the approval API (served by the caller: see [Bot.API])
	Metrics *metrics.Metrics // nil: nothing is counted
}

// Store is what the program needs of persistence (*store.DB has it).
type Store interface {
	approval.Store
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
	apiServer := newAPI(o.Store, web.Directory{Slack: api}, o.API, o.Log)
	o.Workflow.Callbacks = apiServer
	// Slack is also where names and receipt files are looked up, for the exports' caches.
	o.Workflow.Directory = msg
	o.Workflow.Files = msg
	flow := approval.New(o.Store, o.Assessor, msg, msg, o.Workflow, o.Log)
	b := New(o.Slack, api, handlers.New(flow, api, o.Log), o.Log)
	b.flow, b.metrics = flow, o.Metrics
	b.apiServer, b.apiHandler = apiServer, apiServer.Handler(flow)
	return b
}

func newAPI(st api.Store, dir api.Directory, cfg api.Config, log *slog.Logger) *api.Server {
	return api.New(st, dir, cfg, log)
}
