package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/expensebot/expensebot/bot"
	"github.com/expensebot/expensebot/handlers"
	"github.com/expensebot/expensebot/policy"
	"github.com/expensebot/expensebot/store"
)

// runBot connects to Slack and works until ctx ends.
func runBot(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
	if p := cfg.slackProblems(); len(p) > 0 {
		return fmt.Errorf("cannot connect to Slack:\n  %s\n(for a try without Slack: expensebot sandbox)", strings.Join(p, "\n  "))
	}
	var assessor handlers.Assessor
	if cfg.OpenAIAPIKey != "" {
		assessor = newAssessor(cfg)
	}
	return serve(ctx, cfg, logger, assessor)
}

func newAssessor(cfg Config) *policy.Assessor {
	return policy.NewAssessor(policy.AssessorConfig{APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.OpenAIBaseURL, Model: cfg.OpenAIModel, Timeout: cfg.AITimeout})
}

// rules builds the policy from the configuration and the optional policy file.
func rules(cfg Config) (policy.Rules, error) {
	r := policy.Rules{Currency: cfg.Currency, AutoApproveMax: cfg.AutoApproveMax, ReviewMax: cfg.ReviewMax,
		ReceiptRequiredOver: cfg.ReceiptRequiredOver, MinConfidence: cfg.MinConfidence}
	if cfg.PolicyFile != "" {
		if err := r.LoadFile(cfg.PolicyFile); err != nil {
			return r, fmt.Errorf("EXPENSEBOT_POLICY_FILE: %w", err)
		}
	}
	return r, nil
}

// serve runs the app against the Slack at cfg.SlackAPIURL until ctx ends.
func serve(ctx context.Context, cfg Config, logger *slog.Logger, assessor handlers.Assessor) error {
	r, err := rules(cfg)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if assessor == nil {
		logger.Warn("OPENAI_API_KEY is not set: the AI check is off and every expense goes to a reviewer")
	} else {
		logger.Info("AI check on", "model", cfg.OpenAIModel, "base_url", cfg.OpenAIBaseURL)
	}
	logger.Info("database ready", "dialect", db.Dialect())
	bcfg := bot.Config{AppToken: cfg.SlackAppToken, BotToken: cfg.SlackBotToken, APIURL: cfg.SlackAPIURL, Workers: cfg.Workers}
	api := bot.NewAPI(bcfg)
	app := handlers.New(db, assessor, api, handlers.Config{ApprovalsChannel: cfg.ApprovalsChannel, Reviewers: cfg.Reviewers, Rules: r}, logger)
	b := bot.New(bcfg, api, app, logger)

	appCtx, stopApp := context.WithCancel(context.WithoutCancel(ctx))
	defer stopApp()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); app.Run(appCtx, cfg.Workers) }()
	err = b.Run(ctx)
	// The connection has drained its work; now let assessments and deliveries in flight finish.
	stopApp()
	wg.Wait()
	return err
}
