// Package handlers turns Slack requests into domain actions and domain state into Slack messages:
// the /expense command, button clicks, modal submissions and the App Home. Every entry point
// answers in two parts: an ack computed at once without I/O (what Slack needs within 3 seconds),
// and the slow work (database, AI, Web API) as a function the caller runs after acking.
package handlers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
	"github.com/expensebot/expensebot/store"
	"github.com/slack-go/slack"
)

// Store is what the handlers need of persistence.
type Store interface {
	Submit(ctx context.Context, e expensebot.Expense) (expensebot.Expense, bool, error)
	Expense(ctx context.Context, id int64) (expensebot.Expense, error)
	StartAssessment(ctx context.Context, id int64) (expensebot.Expense, error)
	Route(ctx context.Context, id int64, a *expensebot.Assessment, r expensebot.Route) (expensebot.Expense, error)
	Decide(ctx context.Context, d expensebot.Decision) (expensebot.Expense, error)
	Comment(ctx context.Context, id int64, user, text string) (expensebot.Expense, error)
	AppendEvent(ctx context.Context, ev expensebot.AuditEvent) error
	SetReviewMessage(ctx context.Context, id int64, channel, ts string) error
	BySubmitter(ctx context.Context, user string, beforeID int64, limit int) ([]expensebot.Expense, error)
	Pending(ctx context.Context, limit int) ([]expensebot.Expense, error)
	Totals(ctx context.Context, submitter string) ([]store.Total, error)
	Unfinished(ctx context.Context) ([]expensebot.Expense, error)
	ClaimNotices(ctx context.Context, limit int, lease time.Duration) ([]expensebot.Notice, error)
	NoticeDone(ctx context.Context, id int64, ev *expensebot.AuditEvent) error
	NoticeRetry(ctx context.Context, id int64, after time.Duration, reason string) error
	NoticeFailed(ctx context.Context, id int64, reason string) error
	FirstSeen(ctx context.Context, key string) (bool, error)
}

// Assessor gives the AI's advice on an expense. It always returns an assessment; on failure the
// assessment carries the error and the policy sends the expense to a human.
type Assessor interface {
	Assess(ctx context.Context, e expensebot.Expense) (*expensebot.Assessment, error)
}

// Slack is the part of the Web API the handlers call (*slack.Client has it).
type Slack interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error)
	GetFileInfoContext(ctx context.Context, fileID string, count, page int) (*slack.File, []slack.Comment, *slack.Paging, error)
}

// Config is what the handlers need to know about the workspace and the rules.
type Config struct {
	ApprovalsChannel string
	Reviewers        []string // user ids and user-group ids
	Rules            policy.Rules
}

// App handles expensebot's Slack requests.
type App struct {
	store     Store
	assessor  Assessor // nil: the AI check is off
	slack     Slack
	cfg       Config
	log       *slog.Logger
	reviewers *reviewerSet
	now       func() time.Time

	wake       chan struct{} // kicks the notice deliverer after a commit
	homes      *homeRefresher
	queue      chan int64 // expenses to assess
	inflight   sync.Map   // expense id → queued or being assessed
	sweepEvery time.Duration
}

// New returns an App. assessor may be nil when no AI is configured.
func New(st Store, assessor Assessor, sl Slack, cfg Config, log *slog.Logger) *App {
	a := &App{store: st, assessor: assessor, slack: sl, cfg: cfg, log: log,
		now: func() time.Time { return time.Now().UTC() }, wake: make(chan struct{}, 1),
		queue: make(chan int64, 4096), sweepEvery: 30 * time.Second}
	a.reviewers = newReviewerSet(cfg.Reviewers, sl, 5*time.Minute)
	a.homes = newHomeRefresher(a)
	return a
}

// Work is the slow part of handling a request, run after the ack.
type Work func(ctx context.Context)

// kick wakes the notice deliverer.
func (a *App) kick() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// tell posts an ephemeral answer through an interaction's response_url, or DMs the user when
// there is none (App Home buttons have no response_url).
func (a *App) tell(ctx context.Context, user, channel, responseURL string, m Message) {
	// response_url is posted with http.DefaultClient, which has no deadline of its own.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var err error
	switch {
	case responseURL != "":
		err = slack.PostWebhookContext(ctx, responseURL, &slack.WebhookMessage{Text: m.Text, Blocks: &m.Blocks, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: false})
	case channel != "" && channel[0] == 'C':
		_, err = a.slack.PostEphemeralContext(ctx, channel, user, m.options()...)
	default:
		_, _, err = a.slack.PostMessageContext(ctx, user, m.options()...)
	}
	if err != nil {
		a.log.Warn("could not answer user", "user", user, "err", err)
	}
}
