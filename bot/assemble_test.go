package bot_test

import (
	"log/slog"
	"net"
	"time"

	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/bot"
	"github.com/expensebot/expensebot/delivery"
	"github.com/expensebot/expensebot/handlers"
	"github.com/expensebot/expensebot/home"
	"github.com/expensebot/expensebot/lookup"
	"github.com/expensebot/expensebot/metrics"
	"github.com/expensebot/expensebot/slackpace"
	"github.com/expensebot/expensebot/store"
)

// options is what a test's program runs with: the fields of cmd/expensebot's Options.
type options struct {
	Slack        bot.Config
	Workflow     approval.Config
	PostInterval time.Duration
	Store        *store.DB
	Assessor     approval.Assessor
	Log          *slog.Logger
	API          api.Config
	HTTP         net.Listener
	Metrics      *metrics.Metrics
}

// assemble wires the program as cmd/expensebot's Assemble does (a main package cannot be
// imported): the tests here run the bot with everything it runs in production.
func assemble(o options) *bot.Bot {
	sl := bot.NewAPI(o.Slack)
	msg := handlers.NewMessenger(sl, o.Log, o.Metrics)
	if o.Metrics != nil {
		o.Workflow.Observer = o.Metrics
	}
	apiServer := bot.NewAPIServer(o.Store, sl, o.API, o.Log)
	o.Workflow.Callbacks = apiServer
	o.Workflow.Files = msg
	flow := approval.New(o.Store, o.Assessor, msg, msg, o.Workflow, o.Log)
	pace := slackpace.New(o.PostInterval)
	flow.Attach(approval.Rooms{
		Outbox:  delivery.New(o.Store, flow.Notices(), delivery.Config{ApprovalsChannel: o.Workflow.ApprovalsChannel, Pacer: pace}, o.Log),
		Homes:   home.New(o.Store, flow.Rights(), msg, home.Config{Rules: o.Workflow.Rules, Now: o.Workflow.Now, Pacer: pace}, o.Log),
		Lookups: lookup.New(msg, o.Store, o.Workflow.Now, o.Log),
	})
	return bot.New(o.Slack, sl, handlers.New(flow, sl, o.Log), o.Log).With(bot.Parts{
		Workflow: flow, APIServer: apiServer, APIHandler: apiServer.Handler(flow),
		Metrics: o.Metrics, Store: o.Store, HTTP: o.HTTP,
	})
}
