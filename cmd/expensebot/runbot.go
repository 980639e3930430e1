package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/bot"
	"github.com/expensebot/expensebot/cmd/expensebot/wire"
	"github.com/expensebot/expensebot/handlers"
	"github.com/expensebot/expensebot/metrics"
	"github.com/expensebot/expensebot/pace"
	"github.com/expensebot/expensebot/policy"
	"github.com/expensebot/expensebot/policy/openai"
	"github.com/expensebot/expensebot/rates"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/web"
)

// runBot connects to Slack and works until ctx ends.
func runBot(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
	if p := cfg.slackProblems(); len(p) > 0 {
		return fmt.Errorf("cannot connect to Slack:\n  %s\n(for a try without Slack: expensebot sandbox)", strings.Join(p, "\n  "))
	}
	var assessor approval.Assessor // an untyped nil when off: a nil *openai.Assessor is not
	lim := newPace(cfg)
	if cfg.OpenAIAPIKey != "" {
		assessor = newAssessor(cfg, lim)
		logger.Info("AI check on", "model", cfg.OpenAIModel, "base_url", redactURL(cfg.OpenAIBaseURL))
	}
	var reader approval.ReceiptReader // nil: a person compares each receipt with the claim
	if cfg.OpenAIAPIKey != "" {
		reader = newReader(cfg, lim)
		logger.Info("receipts read by a model", "model", cfg.OpenAIVisionModel)
	}
	return serve(ctx, cfg, logger, assessor, reader)
}

// newReader reads receipts with the vision model, on the AI check's provider. A receipt gets
// three times the AI check's time: images are slower to read than a line of text.
func newReader(cfg Config, lim *pace.Limiter) *openai.Reader {
	return openai.NewReader(openai.Config{APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.OpenAIBaseURL, Model: cfg.OpenAIVisionModel, Timeout: 3 * cfg.AITimeout,
		Limiter: lim, Deadline: cfg.AIDeadline})
}

func newAssessor(cfg Config, lim *pace.Limiter) *openai.Assessor {
	return openai.NewAssessor(openai.Config{APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.OpenAIBaseURL, Model: cfg.OpenAIModel, Timeout: cfg.AITimeout,
		Limiter: lim, Deadline: cfg.AIDeadline})
}

// redactURL is u fit for a log line: a password or user in it, and query values that look like
// keys, are replaced. A proxy URL such as https://user:sk-…@llm.internal/v1 must not leak its key.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	if p.User != nil {
		p.User = url.User("REDACTED")
	}
	q := p.Query()
	for k := range q {
		switch strings.ToLower(k) {
		case "key", "api-key", "api_key", "apikey", "token", "access_token", "code", "sig", "signature", "password", "secret":
			q.Set(k, "REDACTED")
		}
	}
	p.RawQuery = q.Encode()
	return p.String()
}

// rules builds the policy from the configuration and the optional policy file.
func rules(cfg Config) (policy.Rules, error) {
	r := policy.Rules{Currency: cfg.Currency, AutoApproveMax: cfg.AutoApproveMax, ReviewMax: cfg.ReviewMax,
		ReceiptRequiredOver: cfg.ReceiptRequiredOver, MinConfidence: cfg.MinConfidence, SplitWindow: cfg.SplitWindow, MaxAge: cfg.MaxAge}
	if cfg.PolicyFile != "" {
		if err := r.LoadFile(cfg.PolicyFile); err != nil {
			return r, fmt.Errorf("EXPENSEBOT_POLICY_FILE: %w", err)
		}
	}
	return r, nil
}

// serve runs the program against the Slack at cfg.SlackAPIURL until ctx ends. The database is
// closed only after the bot's Run has returned, and with it every goroutine of the program.
func serve(ctx context.Context, cfg Config, logger *slog.Logger, assessor approval.Assessor, reader approval.ReceiptReader) error {
	r, err := rules(cfg)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if assessor == nil {
		logger.Warn("OPENAI_API_KEY is not set: the AI check is off and every expense goes to a reviewer")
	}
	// Reads the file and the cached rates now; the URL is fetched by the workflow's Run, so that
	// start-up never waits for the network.
	book, err := rates.Open(ctx, rates.Config{Home: cfg.Currency, File: cfg.RatesFile, URL: cfg.RatesURL, MaxAge: cfg.RatesMaxAge, Band: r.Controls.Band()}, db, logger)
	if err != nil {
		return fmt.Errorf("EXPENSEBOT_RATES_FILE: %w", err)
	}
	setup := handlers.NewSetupChecks(setupCheck(cfg))
	defer checkAtStart(ctx, cfg, logger, setup)()
	listeners, err := listen(cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		for _, ln := range listeners {
			ln.Close() // if the start fails before they are served
		}
	}()
	drain := cmp.Or(cfg.DrainTimeout, 25*time.Second)
	queue := approval.NewQueue()
	m := watchAI(metrics.New(backlog(db)), assessor, queue)
	b := wire.Assemble(wire.Options{
		Slack: bot.Config{AppToken: cfg.SlackAppToken, BotToken: cfg.SlackBotToken, APIURL: cfg.SlackAPIURL, Workers: cfg.Workers,
			DrainTimeout: drain, FlowShare: drain / 2},
		Workflow: approval.Config{ApprovalsChannel: cfg.ApprovalsChannel, Reviewers: cfg.Reviewers, Rules: r, Rates: book,
			Workers: assessWorkers(cfg, assessor != nil || reader != nil), Queue: queue,
			DrainTimeout:  flowDrain(drain),
			SpotCheckRate: cfg.SpotCheckRate, Admins: cfg.Admins, Finance: cfg.Finance, Reader: reader, EscalateTo: cfg.EscalateTo,
			DraftTTL: cfg.DraftTTL,
			Timing:   expensebot.Timing{RemindAfter: cfg.RemindAfter, EscalateAfter: cfg.EscalateAfter, ExpireAfter: cfg.ExpireAfter}},
		Store: db, Assessor: assessor, Log: logger,
		API: apiConfig(cfg), Metrics: m, Setup: setup,
	})
	return runWithHTTP(ctx, cfg, logger, b, db, m, listeners)
}

// runWithHTTP runs the bot and, beside it, the HTTP host on the listeners, until ctx ends or the
// bot stops; it returns once both have.
func runWithHTTP(ctx context.Context, cfg Config, logger *slog.Logger, b *bot.Bot, db *store.DB, m *metrics.Metrics, listeners []web.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	o := web.Options{Log: logger, Connected: b.Connected, DB: db, Metrics: m, Clients: cfg.APIClients}
	if len(cfg.APIClients) > 0 {
		o.API, o.Drain = b.API()
	}
	host := web.New(o)
	served := make(chan struct{})
	go func() {
		defer close(served)
		host.Run(ctx, listeners...)
	}()
	pruned := make(chan struct{})
	go func() {
		defer close(pruned)
		prune(ctx, db, logger, time.Hour)
	}()
	err := b.Run(ctx)
	cancel() // a bot that stopped on its own takes the HTTP host down with it
	<-served
	<-pruned
	return err
}

// prune forgets the Slack event ids seen more than store.SeenEventsRetention ago, at start and
// every interval until ctx ends, so that seen_events stays a day of events long. Several
// instances may prune at once.
func prune(ctx context.Context, db *store.DB, logger *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := db.Prune(ctx, store.SeenEventsRetention); err != nil && ctx.Err() == nil {
			logger.Warn("prune seen Slack events", "err", err)
		} else if n > 0 {
			logger.Info("seen Slack events pruned", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// openDatabase opens the database for run: it applies pending migrations, unless
// EXPENSEBOT_MIGRATE=false, when a database that is behind is refused rather than changed.
func openDatabase(ctx context.Context, cfg Config, logger *slog.Logger) (*store.DB, error) {
	where := describeDatabase(cfg.DatabaseURL)
	if !cfg.Migrate {
		check, err := store.OpenExisting(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("EXPENSEBOT_MIGRATE=false, and the database is not ready: %w\n(apply the migrations with: expensebot migrate)", err)
		}
		check.Close()
	} else if err := makeDataDir(cfg.DatabaseURL); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	logger.Info("database ready", "dialect", db.Dialect(), "database", where, "migrate_at_start", cfg.Migrate)
	return db, nil
}

// backlog reads the outbox backlog for /metrics.
func backlog(db *store.DB) metrics.BacklogFunc {
	return func(ctx context.Context) ([]metrics.Backlog, error) {
		list, err := db.Backlogs(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]metrics.Backlog, len(list))
		for i, b := range list {
			out[i] = metrics.Backlog{Channel: b.Channel, Count: b.Count, Oldest: time.Since(b.Oldest)}
		}
		return out, nil
	}
}

// flowDrain is how long the workflow lets its work in flight finish at a stop: its half of the
// drain time (see bot.Config.FlowShare), less the time it needs to record what finished and give
// back its holds and claims.
func flowDrain(total time.Duration) time.Duration {
	return max(total/2-6*time.Second, time.Second)
}
