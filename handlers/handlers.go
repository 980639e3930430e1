// Package handlers is expensebot's Slack edge: it turns Slack requests (the /expense command,
// button clicks, modal submissions, App Home events) into calls on the approval workflow, and the
// workflow's news into Slack messages and views. Every entry point answers in two parts: an ack
// computed at once without I/O (what Slack needs within 3 seconds), and the slow work as a
// function the caller runs after acking. routes.go lists every request it handles; the views_*.go
// files build what people see.
package handlers

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/home"
	"github.com/expensebot/expensebot/lookup"
	"github.com/expensebot/expensebot/policy"
	"github.com/slack-go/slack"
)

// workflow is what the handlers ask of the approval workflow (*approval.Service has it).
type workflow interface {
	Submit(ctx context.Context, e expensebot.Expense) (expensebot.Expense, bool, error)
	Authorize(ctx context.Context, user string, id int64, action string) (expensebot.Expense, error)
	Decide(ctx context.Context, d expensebot.Decision) (expensebot.Expense, error)
	Comment(ctx context.Context, user string, id int64, text string) error
	AttachReceipts(ctx context.Context, user string, id int64, files []string) (expensebot.Expense, error)
	AuthorizeSpotCheck(ctx context.Context, user string, id int64) (expensebot.Expense, expensebot.SpotCheck, error)
	ResolveSpotCheck(ctx context.Context, user string, id int64, flag bool, finding string) (expensebot.SpotCheck, error)
	AuthorizeSpotSettle(ctx context.Context, user string, id int64) (expensebot.Expense, expensebot.SpotCheck, error)
	SettleSpotCheck(ctx context.Context, user string, id int64, clear bool, reason string) (expensebot.SpotCheck, error)
	AskInfo(ctx context.Context, user string, id int64, question string) error
	OpenQuestion(ctx context.Context, user string, id int64) (expensebot.Expense, error)
	Answer(ctx context.Context, user string, id int64, answer string) error
	Withdraw(ctx context.Context, user string, id int64) (expensebot.Expense, error)
	Resubmittable(ctx context.Context, user string, id int64) (expensebot.Expense, error)
	Delegate(ctx context.Context, reviewer, delegate string, until time.Time) error
	EndDelegation(ctx context.Context, reviewer string) error
	History(ctx context.Context, user string, limit int) ([]expensebot.Expense, error)
	HomeOpened(ctx context.Context, eventID, user string)
	HomePage(ctx context.Context, user string, filter expensebot.Status, page int)
	AIOn() bool
	Currency() string
	ReceiptLimits() (expensebot.Money, map[string]expensebot.Money)
	Now() time.Time

	adminFlow
	ChangeRules(ctx context.Context, user string, base int64, next policy.Settings) error
	// Drafts of receipts posted in the DM.
	StartDraft(ctx context.Context, req approval.DraftRequest) (approval.DraftOutcome, error)
	DraftPosted(ctx context.Context, id int64, ts string) error
	Draft(ctx context.Context, user string, id int64) (expensebot.Draft, error)
	SubmitDraft(ctx context.Context, user string, id int64, edit *expensebot.Expense) (expensebot.Expense, bool, error)
	DiscardDraft(ctx context.Context, user string, id int64) (expensebot.Draft, error)
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
	GetFileContext(ctx context.Context, downloadURL string, writer io.Writer) error
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
	GetPermalinkContext(ctx context.Context, params *slack.PermalinkParameters) (string, error)
	UpdateViewContext(ctx context.Context, view slack.ModalViewRequest, externalID, hash, viewID string) (*slack.ViewResponse, error)
	GetConversationInfoContext(ctx context.Context, input *slack.GetConversationInfoInput) (*slack.Channel, error)
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	AddReactionContext(ctx context.Context, name string, item slack.ItemRef) error
}

// Work is the slow part of handling a request, run after the ack.
type Work = func(ctx context.Context)

// Commit is an ack that depends on a database write: a submission is saved before Slack is told
// it was received. The bot runs it on a pool of its own, with a deadline inside Slack's three
// seconds, and acks with what it returns.
type Commit func(ctx context.Context) (ack any)

// App handles expensebot's Slack requests.
type App struct {
	flow  workflow
	slack Slack
	log   *slog.Logger

	actions map[string]actionFunc
	views   map[string]viewFunc
	checks  *SetupChecks // the setup checks an administrator may run again; nil: none
}

// New returns an App that acts through flow and answers through sl.
func New(flow workflow, sl Slack, log *slog.Logger) *App {
	a := &App{flow: flow, slack: sl, log: log}
	a.routes()
	return a
}

// Messenger delivers the workflow's news to people in Slack; it implements
// approval.Messenger and approval.Groups.
type Messenger struct {
	slack   Slack
	log     *slog.Logger
	observe interface{ RateLimited(method string) } // may be nil

	adminFlow adminFlow    // who sees the admin section, and its settings; nil: nobody
	checks    *SetupChecks // the setup checks' findings it shows
}

// NewMessenger returns a Messenger that posts through sl and counts Slack's 429s with observe
// (nil: not counted).
func NewMessenger(sl Slack, log *slog.Logger, observe interface{ RateLimited(method string) }) *Messenger {
	return &Messenger{slack: sl, log: log, observe: observe}
}

var (
	_ approval.Messenger    = (*Messenger)(nil)
	_ approval.Groups       = (*Messenger)(nil)
	_ lookup.Directory      = (*Messenger)(nil)
	_ home.Publisher        = (*Messenger)(nil)
	_ approval.ReceiptFiles = (*Messenger)(nil)
	_ workflow              = (*approval.Service)(nil)
)
