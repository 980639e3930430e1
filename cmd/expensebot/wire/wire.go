// Package wire assembles the program from its parts: the Web API client, the Slack edge, the
// approval workflow and the rooms beside it, and the approval API. It is the one place that knows
// them all; `expensebot run` and the end-to-end tests of package bot assemble the same program
// through it.
package wire

import (
	"context"
	"log/slog"
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
	"github.com/expensebot/expensebot/web"
)

// Options is everything the program runs with, built from the configuration.
type Options struct {
	Slack    bot.Config
	Workflow approval.Config
	// PostInterval paces posts to one conversation (0: Slack's pace of one a second, a burst of
	// 3; negative: none).
	PostInterval time.Duration
	Store        Store
	Assessor     approval.Assessor // nil: the AI check is off
	Log          *slog.Logger

	API     api.Config       // clients, webhook secret and callback rules of the approval API (served by the caller's HTTP host: see [bot.Bot.API])
	Metrics *metrics.Metrics // nil: nothing is counted
	// Setup holds the setup checks' findings for the App Home's admin section, and runs them
	// again; nil: the section shows none.
	Setup *handlers.SetupChecks
}

// Store is what the program needs of persistence (*store.DB has it): the sum of what each part
// declares it uses.
type Store interface {
	approval.Store
	approval.RuleSets
	approval.DraftStore
	delivery.Store
	home.Store
	lookup.Store
	api.Store
	Ping(ctx context.Context) error
}

// Assemble wires the program: the Web API client, the Slack edge, the approval workflow over
// o.Store and the rooms beside it (delivery, App Home, directory lookups), the approval API, and
// the Socket Mode connection. Run the returned bot to start it all.
func Assemble(o Options) *bot.Bot {
	// One clock decides every timer: the store stamps and compares times with the workflow's
	// clock, so a reminder due by one is due by the other.
	if o.Workflow.Now == nil {
		o.Workflow.Now = time.Now
	}
	if c, ok := o.Store.(interface{ SetClock(func() time.Time) }); ok {
		c.SetClock(o.Workflow.Now)
	}
	sl := bot.NewAPI(o.Slack)
	msg := handlers.NewMessenger(sl, o.Log, o.Metrics)
	if o.Metrics != nil {
		o.Workflow.Observer = o.Metrics
	}
	// The approval API delivers the workflow's callbacks even with no listener: notices queued
	// while it served must still go out.
	apiServer := api.New(o.Store, web.Directory{Slack: sl}, o.API, o.Log)
	o.Workflow.Callbacks = apiServer
	o.Workflow.Files = msg
	o.Workflow.RuleSets = o.Store
	o.Workflow.Drafts, o.Workflow.DraftNotices = o.Store, msg
	flow := approval.New(o.Store, o.Assessor, msg, msg, o.Workflow, o.Log)
	// Slack's pace is kept on the Slack side; the rooms beside the workflow only ask it.
	pace := slackpace.New(o.PostInterval)
	flow.Attach(approval.Rooms{
		Outbox: delivery.New(o.Store, flow.Notices(), delivery.Config{ApprovalsChannel: o.Workflow.ApprovalsChannel, Pacer: pace}, o.Log),
		Homes:  home.New(o.Store, flow.Rights(), msg, home.Config{Rules: o.Workflow.Rules, Now: o.Workflow.Now, Pacer: pace, Drafts: flow.Drafts}, o.Log),
		// Slack is also where names and receipt files are looked up, for the exports' caches.
		Lookups: lookup.New(msg, o.Store, o.Workflow.Now, o.Log),
	})
	// Administrators see the rules and the setup checks in their App Home, and change the rules there.
	msg.SetAdministration(flow, o.Setup)
	app := handlers.New(flow, sl, o.Log)
	app.SetSetupChecks(o.Setup)
	return bot.New(o.Slack, sl, app, o.Log).With(bot.Parts{
		Workflow: flow, APIServer: apiServer, APIHandler: apiServer.Handler(flow),
		Metrics: o.Metrics,
	})
}
