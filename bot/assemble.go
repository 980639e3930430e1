package bot

import (
	"log/slog"

	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/handlers"
)

// Options is everything the program runs with, built by cmd/expensebot from the configuration and
// by the end-to-end tests from theirs.
type Options struct {
	Slack    Config
	Workflow approval.Config
	Store    approval.Store
	Assessor approval.Assessor // nil: the AI check is off
	Log      *slog.Logger
}

// Assemble wires the program: the Web API client, the Slack edge, the approval workflow over
// o.Store, and the Socket Mode connection. Run the returned bot to start it all.
func Assemble(o Options) *Bot {
	api := NewAPI(o.Slack)
	msg := handlers.NewMessenger(api, o.Log)
	flow := approval.New(o.Store, o.Assessor, msg, msg, o.Workflow, o.Log)
	b := New(o.Slack, api, handlers.New(flow, api, o.Log), o.Log)
	b.flow = flow
	return b
}
