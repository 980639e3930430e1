// Package approval is the expense workflow: everything that happens to an expense after an edge
// (Slack, or the approval API) hands it over. It submits, assesses and routes expenses, decides
// who may approve them, records decisions and their timers, and says what each state change must
// tell to whom: notices in the outbox, which its [Outbox] delivers, and whose App Home is out of
// date, which its [Homes] refresh. How fast a platform may be told anything is none of its
// business. It knows no Slack, SQL or model API: the store, the AI assessor, the messenger that
// talks to people and the rooms beside it are small interfaces declared here, and [Service.Run]
// owns every goroutine it starts.
package approval

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
)

// Histories reads a submitter's other expenses, for the finance controls.
type Histories interface {
	Related(ctx context.Context, submitter string, exclude int64, from, to time.Time) ([]expensebot.Expense, error)
	RelatedAll(ctx context.Context, submitters []string, from, to time.Time) (list []expensebot.Expense, complete bool, err error)
	// Receipted returns anyone's expenses incurred between from and to whose receipts a model
	// read, so that one bill is found whoever claims it.
	Receipted(ctx context.Context, from, to time.Time) ([]expensebot.Expense, error)
}

// Store is what the workflow needs of persistence (*store.DB has it).
type Store interface {
	SubmitAll(ctx context.Context, subs []expensebot.Submission, hold time.Duration) error
	Expense(ctx context.Context, id int64) (expensebot.Expense, error)
	StartAssessment(ctx context.Context, id int64, lease time.Duration) (expensebot.Expense, error)
	RouteAll(ctx context.Context, rs []expensebot.Routing, claim time.Duration) error
	Decide(ctx context.Context, d expensebot.Decision) (expensebot.Expense, error)
	Comment(ctx context.Context, id int64, user, text string) (expensebot.Expense, error)
	AppendEvent(ctx context.Context, ev expensebot.AuditEvent) error
	SetReviewMessage(ctx context.Context, id int64, channel, ts string) error
	BySubmitter(ctx context.Context, user string, beforeID int64, limit int) ([]expensebot.Expense, error)
	Unfinished(ctx context.Context) ([]expensebot.Expense, error)
	ReleaseNotices(ctx context.Context, ids []int64) error
	ReleaseBlocked(ctx context.Context, channel string) (int, error)
	Holder // the assessment holds

	Histories
	Events(ctx context.Context, expenseID int64) ([]expensebot.AuditEvent, error)

	// The spot checks.
	SpotCheck(ctx context.Context, id int64) (expensebot.SpotCheck, error)
	SetSpotMessage(ctx context.Context, id int64, channel, ts string) error
	ResolveSpotCheck(ctx context.Context, id int64, user string, flag bool, finding string) (expensebot.SpotCheck, error)
	SettleSpotCheck(ctx context.Context, id int64, user string, clear bool, reason string) (expensebot.SpotCheck, error)

	// Receipts.
	Receipts(ctx context.Context, id int64) ([]expensebot.Receipt, error)
	AddReceipts(ctx context.Context, id int64, rs []expensebot.Receipt, actor string) (expensebot.Expense, error)
	Reroute(ctx context.Context, id int64, before []string, r expensebot.Route) (expensebot.Expense, bool, error)

	// The lifecycle after the first click.
	AskInfo(ctx context.Context, id int64, reviewer, onBehalfOf, question string) (expensebot.Expense, error)
	Answer(ctx context.Context, id int64, submitter, answer string, remindAfter time.Duration) (expensebot.Expense, error)
	Withdraw(ctx context.Context, id int64, submitter string) (expensebot.Expense, error)
	DueTimers(ctx context.Context, limit int) ([]expensebot.Expense, error)
	ScheduleTimers(ctx context.Context, t expensebot.Timing) (int, error)
	Remind(ctx context.Context, id int64, every time.Duration) (bool, error)
	Escalate(ctx context.Context, id int64, reviewers, add []string) (bool, error)
	Expire(ctx context.Context, id int64) (bool, error)
	Delegations(ctx context.Context) ([]expensebot.Delegation, error)
	Delegate(ctx context.Context, d expensebot.Delegation) error
	EndDelegation(ctx context.Context, reviewer string) error
}

// Assessor gives the AI's advice on an expense. It always returns an assessment; on failure the
// assessment carries the error and the policy sends the expense to a person.
type Assessor interface {
	Assess(ctx context.Context, e expensebot.Expense) (*expensebot.Assessment, error)
}

// Messenger tells people what happened, in Slack. A method that fails may wrap its error in
// [*RetryAfterError] (the platform asked to wait) or [*PermanentError] (retrying cannot help).
type Messenger interface {
	// PostReview posts the approval card for notice n and returns where it landed.
	PostReview(ctx context.Context, e expensebot.Expense, n expensebot.Notice) (channel, ts string, err error)
	// UpdateReview redraws the approval card in place.
	UpdateReview(ctx context.Context, e expensebot.Expense) error
	// TellSubmitter sends the submitter the news of notice n. A notice with Attempts > 0 may
	// have been delivered already by an attempt whose outcome was not recorded (a crash, a lost
	// answer): the messenger makes sure it is not said twice. The same holds for PostReview and
	// PostComment.
	TellSubmitter(ctx context.Context, e expensebot.Expense, n expensebot.Notice) error
	// PostComment posts a reviewer's comment or question under the card and sends it to the
	// submitter.
	PostComment(ctx context.Context, e expensebot.Expense, n expensebot.Notice) error
	// PostThread replies under the card: the submitter's answer, a reminder, an escalation.
	PostThread(ctx context.Context, e expensebot.Expense, n expensebot.Notice) error
	// CheckChannel reports why cards cannot be posted to channel, in words for an operator, or
	// nil when they can.
	CheckChannel(ctx context.Context, channel string) error
	// PostSpotCheck posts the spot-check message of an automatically approved expense to channel
	// for notice n and returns where it landed.
	PostSpotCheck(ctx context.Context, e expensebot.Expense, sc expensebot.SpotCheck, channel string, n expensebot.Notice) (string, string, error)
	// UpdateSpotCheck redraws the spot-check message in place.
	UpdateSpotCheck(ctx context.Context, e expensebot.Expense, sc expensebot.SpotCheck) error
	// TellFinance replies in the spot-check message's thread with what a reviewer flagged,
	// mentioning finance (user and user-group ids; none is fine).
	TellFinance(ctx context.Context, e expensebot.Expense, sc expensebot.SpotCheck, n expensebot.Notice, finance []string) error
}

// Outbox delivers the notices the workflow queued (*delivery.Deliverer is one).
type Outbox interface {
	// Run delivers until ctx ends, finishing on work what is in flight then.
	Run(ctx, work context.Context)
	// Kick says that notices were committed.
	Kick()
	// Claim is the lease to claim notices with as they are queued, to hand them straight to
	// Carry; 0: leave them in the outbox.
	Claim() time.Duration
	// Carry hands over notices claimed as they were queued, with the expenses they tell of as
	// routed, by expense id; false: not taken, the caller hands them back.
	Carry(ns []expensebot.Notice, routed map[int64]expensebot.Expense) bool
}

// Homes keeps App Homes current (*home.Refresher is one).
type Homes interface {
	Run(ctx, work context.Context)
	// Mark says that user's App Home is out of date.
	Mark(user string)
	// MarkReviewers says that every reviewer's App Home is out of date.
	MarkReviewers()
	// Opened shows user their App Home; eventID (may be "") makes a redelivered event a no-op.
	Opened(ctx context.Context, eventID, user string)
	// Page shows user a page of their history, narrowed to one status ("" for all).
	Page(ctx context.Context, user string, filter expensebot.Status, page int)
}

// Lookups fills the exports' caches of names and receipt files (*lookup.Lookups is one).
type Lookups interface {
	Run(ctx, work context.Context)
	// Person asks for user's name to be looked up.
	Person(user string)
	// Receipts asks for the receipt files of an expense to be looked up.
	Receipts(expenseID int64, ids ...string)
}

// Rooms are what works beside the workflow: each is told of the changes that concern it, and runs
// while [Service.Run] runs. Any may be nil: the workflow then only records.
type Rooms struct {
	Outbox  Outbox
	Homes   Homes
	Lookups Lookups
}

type noOutbox struct{}

func (noOutbox) Run(context.Context, context.Context)                         {}
func (noOutbox) Kick()                                                        {}
func (noOutbox) Claim() time.Duration                                         { return 0 }
func (noOutbox) Carry([]expensebot.Notice, map[int64]expensebot.Expense) bool { return false }

type noHomes struct{}

func (noHomes) Run(context.Context, context.Context)                 {}
func (noHomes) Mark(string)                                          {}
func (noHomes) MarkReviewers()                                       {}
func (noHomes) Opened(context.Context, string, string)               {}
func (noHomes) Page(context.Context, string, expensebot.Status, int) {}

type noLookups struct{}

func (noLookups) Run(context.Context, context.Context) {}
func (noLookups) Person(string)                        {}
func (noLookups) Receipts(int64, ...string)            {}

// Rates expresses amounts in the home currency (*rates.Book is one). Convert reports false when
// it knows no usable rate; the Rate it returns then describes the newest rate it had, if that was
// too old. Run keeps the rates current until ctx ends; [Service.Run] runs it.
type Rates interface {
	Convert(m expensebot.Money) (expensebot.Money, expensebot.Rate, bool)
	Run(ctx context.Context)
}

// Callbacks tells the system that submitted an expense through the approval API about an outcome
// (notice n), at the expense's CallbackURL, and returns the audit event that records the
// delivery. Its errors may be wrapped as a [Messenger]'s are.
type Callbacks interface {
	Callback(ctx context.Context, e expensebot.Expense, n expensebot.Notice) (expensebot.AuditEvent, error)
}

// Observer counts what happens, for an operator's dashboard (*metrics.Metrics is one).
type Observer interface {
	Outcome(outcome string)
	Assessed(d time.Duration, failed bool, promptTokens, completionTokens int)
}

type noObserver struct{}

func (noObserver) Outcome(string)                         {}
func (noObserver) Assessed(time.Duration, bool, int, int) {}

// Groups expands a user group into its members.
type Groups interface {
	GroupMembers(ctx context.Context, group string) ([]string, error)
}

// Config is what the workflow needs to know about the workspace and the rules.
type Config struct {
	ApprovalsChannel string
	Reviewers        []string // user ids and user-group ids
	Rules            policy.Rules
	Rates            Rates             // nil: no exchange rates, so other currencies have no known rate
	Workers          int               // assessment workers (default 4): with an AI check, more than the provider takes calls at once
	Queue            *Queue            // the expenses waiting for a worker; nil: one of its own
	DrainTimeout     time.Duration     // how long Run lets work in flight finish after ctx ends (default 25s)
	GroupTTL         time.Duration     // how old a user group's member list may be (default 2m)
	AssessLease      time.Duration     // how long an assessment's hold on its expense lasts unless renewed (default 10s); renewed every third of it while the work runs
	Callbacks        Callbacks         // delivers API callbacks; nil: they wait until one is configured
	Files            ReceiptFiles      // fetches and shares receipts; nil: receipt ids are taken as they are, unchecked
	Reader           ReceiptReader     // reads receipts; nil: a person compares each receipt with the claim
	Timing           expensebot.Timing // when pending expenses are reminded, escalated and expired
	Drafts           DraftStore        // keeps drafts of receipts posted in the DM; nil: no drafts
	DraftNotices     DraftNotices      // tells owners their draft expired; nil: the App Home shows it
	DraftTTL         time.Duration     // how long a draft waits for its owner (default DefaultDraftTTL)
	EscalateTo       []string          // user and group ids who may also decide an expense once it is escalated
	TimerEvery       time.Duration     // how often due timers are looked for (default 15s)
	Now              func() time.Time
	Observer         Observer // nil: nothing is counted

	// SpotCheckRate is the share (0..1) of automatic approvals drawn for a spot check.
	SpotCheckRate float64
	// Draw returns a uniform random number in [0, 1) for each spot-check draw; nil uses crypto/rand.
	Draw func() float64
	// Finance are the user and user-group ids told in the thread when a spot check is flagged.
	Finance []string

	// RuleSets keeps the versions of the rules, so that an administrator's change applies on every
	// instance; nil: the rules above stay in force as configured.
	RuleSets RuleSets
	// RulesEvery is how often the newest rule set is looked for besides before each route
	// (default 5s).
	RulesEvery time.Duration
	// Admins are the user and user-group ids who may change the rules in the App Home.
	Admins []string
}

// Service runs the approval workflow. Its methods are safe for concurrent use.
type Service struct {
	store     Store
	related   Histories // the store, for the finance controls
	assessor  Assessor  // nil: the AI check is off
	msg       Messenger
	cfg       Config
	log       *slog.Logger
	reviewers *reviewerSet
	out       Outbox
	homes     Homes
	lookups   Lookups
	live      atomic.Pointer[live] // the rules in force
	admins    *reviewerSet         // who may change them

	queue      *Queue // expenses to assess
	submits    chan *submission
	routes     chan *routing
	committing atomic.Bool  // the committer runs: Submit hands over, else it commits itself
	handing    sync.RWMutex // held for reading while a Submit hands over; the committer's stop takes it to know none still is
	holds      *holds       // the assessment holds this instance keeps
	inflight   sync.Map     // expense id → queued or being assessed
	sweepEvery time.Duration
}

// New returns a workflow over st. assessor may be nil when no AI is configured.
func New(st Store, assessor Assessor, m Messenger, g Groups, cfg Config, log *slog.Logger) *Service {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 25 * time.Second
	}
	if cfg.GroupTTL <= 0 {
		cfg.GroupTTL = 2 * time.Minute
	}
	if cfg.AssessLease <= 0 {
		cfg.AssessLease = 10 * time.Second
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	if cfg.TimerEvery <= 0 {
		cfg.TimerEvery = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RulesEvery <= 0 {
		cfg.RulesEvery = 5 * time.Second
	}
	if cfg.Queue == nil {
		cfg.Queue = NewQueue()
	}
	s := &Service{store: st, related: st, assessor: assessor, msg: m, cfg: cfg, log: log,
		out: noOutbox{}, homes: noHomes{}, lookups: noLookups{}, queue: cfg.Queue, submits: make(chan *submission, maxGroup),
		routes: make(chan *routing, maxGroup), sweepEvery: 2 * time.Second} // with 10 s holds, work a killed instance held resumes within 12 s
	s.holds = newHolds(st, cfg.AssessLease, log)
	s.reviewers = newReviewerSet(cfg.Reviewers, g, cfg.GroupTTL, cfg.Now)
	s.admins = newReviewerSet(cfg.Admins, g, cfg.GroupTTL, cfg.Now)
	s.apply(0, policy.Settings{Rules: cfg.Rules, ApprovalsChannel: cfg.ApprovalsChannel, Reviewers: cfg.Reviewers,
		EscalateTo: cfg.EscalateTo, Timing: cfg.Timing})
	if s.cfg.Draw == nil {
		s.cfg.Draw = cryptoDraw
	}
	return s
}

// AIOn reports whether an AI check is configured.
func (s *Service) AIOn() bool { return s.assessor != nil }

// Currency is the home currency.
func (s *Service) Currency() string { return s.cfg.Rules.Currency }

// ReceiptLimits says above which amount an expense needs a receipt, and where a category's rule
// says otherwise (see [policy.Rules.ReceiptLimits]).
func (s *Service) ReceiptLimits() (expensebot.Money, map[string]expensebot.Money) {
	return s.rules().settings.Rules.ReceiptLimits()
}

// Now is the workflow's clock.
func (s *Service) Now() time.Time { return s.cfg.Now().UTC() }

// Attach gives the workflow the rooms beside it, before Run; nil ones stay as they were.
func (s *Service) Attach(r Rooms) {
	if r.Outbox != nil {
		s.out = r.Outbox
	}
	if r.Homes != nil {
		s.homes = r.Homes
	}
	if r.Lookups != nil {
		s.lookups = r.Lookups
	}
}

// kick wakes the notice deliverer.
func (s *Service) kick() { s.out.Kick() }

// HomeOpened shows user their App Home; eventID (may be "") makes a redelivered event a no-op.
func (s *Service) HomeOpened(ctx context.Context, eventID, user string) {
	s.homes.Opened(ctx, eventID, user)
}

// HomePage shows user a page of their history in their App Home, narrowed to one status
// (filter "" for all); pages count from 0.
func (s *Service) HomePage(ctx context.Context, user string, filter expensebot.Status, page int) {
	s.homes.Page(ctx, user, filter, page)
}

// Rights are the workflow's rules of who may decide what, for the App Home's queue
// (home.Rights).
type Rights struct{ s *Service }

// Rights returns who may decide what, by the workflow's rules.
func (s *Service) Rights() Rights { return Rights{s} }

// Reviewer reports whether user is one of the configured reviewers, directly or through a group.
func (r Rights) Reviewer(ctx context.Context, user string) bool {
	ok, _ := r.s.reviewers.allowed(ctx, user, nil)
	return ok
}

// MayDecide reports whether user may decide e, in their own right (forWhom "") or for an away
// reviewer.
func (r Rights) MayDecide(ctx context.Context, user string, e expensebot.Expense, delegations []expensebot.Delegation) (forWhom string, ok bool) {
	forWhom, ok, _ = r.s.mayDecide(ctx, user, e, delegations)
	return forWhom, ok
}

// decide converts the amount to the home currency and applies the policy to it and the
// submitter's history, filling in the default approvals channel and reviewers, names the rules'
// version and, for an automatic approval, draws for a spot check: all of it is stored with the
// expense.
// h is the submitter's history (see histories); err, that it could not be read: the controls then
// fail closed.
func (s *Service) decide(e expensebot.Expense, a *expensebot.Assessment, h policy.History, err error) expensebot.Route {
	cur := s.rules()
	e.HomeAmount, e.Rate = s.convert(e.Amount)
	r := policy.Decide(e, a, h, cur.settings.Rules)
	if err != nil {
		s.log.Error("finance controls: read history; a person will decide", "expense_id", e.ID, "err", err)
	}
	if err != nil && r.AutoApprove {
		// Fail closed: without the history the controls could not look, so a person does.
		r.AutoApprove, r.ApprovalsRequired = false, 1
		r.Reasons = []string{"the finance checks could not read the submitter's other expenses, so a person decides"}
	}
	if r.AutoApprove {
		r.SpotCheck = s.drawSpotCheck()
	}
	if !r.AutoApprove {
		if r.Channel == "" {
			r.Channel = cur.settings.ApprovalsChannel
		}
		if len(r.Reviewers) == 0 {
			r.Reviewers = cur.settings.Reviewers
		}
	}
	r.Version = cur.version
	r.Timing = cur.settings.Timing
	return r
}

// deciders are who may decide e: the reviewers stored with its route (expenses routed before
// routes were stored have none, and fall back to the configured reviewers).
func (s *Service) deciders(e expensebot.Expense) []string {
	if len(e.Reviewers) > 0 {
		return e.Reviewers
	}
	return s.rules().settings.Reviewers
}

// convert expresses m in the home currency for the policy: m itself in the home currency, else
// its conversion, else an amount of 0 (no usable rate) with the rate that was too old, if any.
func (s *Service) convert(m expensebot.Money) (expensebot.Money, expensebot.Rate) {
	home := s.cfg.Rules.Currency
	if m.Currency == home {
		return m, expensebot.Rate{}
	}
	if s.cfg.Rates == nil {
		return expensebot.Money{Currency: home}, expensebot.Rate{From: m.Currency, To: home}
	}
	h, r, ok := s.cfg.Rates.Convert(m)
	switch {
	case !ok:
		return expensebot.Money{Currency: home}, r
	case h.Currency != home || h.Minor <= 0: // a converter for another home currency: no use
		return expensebot.Money{Currency: home}, expensebot.Rate{From: m.Currency, To: home}
	}
	return h, r
}
