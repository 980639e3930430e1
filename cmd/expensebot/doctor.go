package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/doctor"
	"github.com/expensebot/expensebot/handlers"
	"github.com/expensebot/expensebot/store"
)

const doctorUsage = `Usage: expensebot doctor

Checks the setup with the same environment as 'expensebot run', and changes nothing: the Slack
tokens and the scopes granted against manifest.yml, the bot's membership of every approvals
channel, every reviewer, escalation and finance id, the database and its migrations, the model
(one call of one token) and the exchange rates.

Prints one line per check, with how to fix it beneath:
  ✓ works   · for your information   ! works, with something missing   ✗ a problem
Exits 0 when there is no problem (warnings allowed), 1 otherwise.
`

// runDoctor is 'expensebot doctor'. It reads the configuration itself, so that a mistake there
// is reported like any other problem and --help works without one.
func runDoctor(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, doctorUsage)
			return nil
		}
		return usageError{fmt.Sprintf("doctor: %v", err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("doctor takes no arguments, got %q", strings.Join(fs.Args(), " "))}
	}
	cfg, err := loadConfig()
	if err != nil {
		// loadConfig never repeats a secret's value.
		report := doctor.Report{{Check: "configuration", Status: doctor.Problem, Detail: err.Error(),
			Fix: "correct the variables named above ('expensebot help' lists them all), then run 'expensebot doctor' again"}}
		report.Write(stdout)
		return errors.New("doctor: the configuration has problems")
	}
	if cfg.DatabaseURL, err = cfg.databaseURL(); err != nil {
		return err
	}
	setup, err := doctorSetup(cfg)
	var report doctor.Report
	if err != nil {
		report = append(report, doctor.Finding{Check: "policy file (EXPENSEBOT_POLICY_FILE)", Status: doctor.Problem,
			Detail: err.Error(), Fix: "correct the file; the bot does not start with a policy file it cannot read"})
	}
	setup.Database = func(ctx context.Context) (store.MigrationStatus, error) {
		return store.InspectMigrations(ctx, cfg.DatabaseURL)
	}
	report = append(report, doctor.Run(ctx, setup)...)
	if err := report.Write(stdout); err != nil {
		return err
	}
	if n := report.Count(doctor.Problem); n > 0 {
		return fmt.Errorf("doctor: %d problem(s) found", n)
	}
	return nil
}

// doctorSetup is what to check for cfg: the approvals channels and the people of the
// configuration and of the policy file. The error is the policy file's; the rest of the setup
// is still returned.
func doctorSetup(cfg Config) (doctor.Setup, error) {
	s := doctor.Setup{
		Slack:    doctor.Slack{APIURL: cfg.SlackAPIURL, BotToken: cfg.SlackBotToken, AppToken: cfg.SlackAppToken},
		Manifest: expensebot.Manifest,
		Model: doctor.Model{APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.OpenAIBaseURL, Timeout: 3 * cfg.AITimeout,
			Models: []string{cfg.OpenAIModel, cfg.OpenAIVisionModel}},
		Rates: doctor.Rates{File: cfg.RatesFile, URL: cfg.RatesURL, MaxAge: cfg.RatesMaxAge},
	}
	if u, err := url.Parse(cfg.DatabaseURL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			s.Secrets = append(s.Secrets, p)
		}
	}
	// A proxy's URL may carry a key in its password or query, and an error may quote the URL.
	if u, err := url.Parse(cfg.OpenAIBaseURL); err == nil {
		if p, ok := u.User.Password(); ok {
			s.Secrets = append(s.Secrets, p)
		}
		for _, vs := range u.Query() {
			s.Secrets = append(s.Secrets, vs...)
		}
	}
	if cfg.ApprovalsChannel != "" {
		s.Channels = append(s.Channels, doctor.Use{ID: cfg.ApprovalsChannel, Where: "EXPENSEBOT_APPROVALS_CHANNEL"})
	}
	for _, list := range []struct {
		ids   []string
		where string
	}{{cfg.Reviewers, "EXPENSEBOT_REVIEWERS"}, {cfg.EscalateTo, "EXPENSEBOT_ESCALATE_TO"}, {cfg.Finance, "EXPENSEBOT_FINANCE"}, {cfg.Admins, "EXPENSEBOT_ADMINS"}} {
		for _, id := range list.ids {
			s.People = append(s.People, doctor.Use{ID: id, Where: list.where})
		}
	}
	r, err := rules(cfg)
	if err != nil {
		return s, err
	}
	categories := make([]string, 0, len(r.Categories))
	for c := range r.Categories {
		categories = append(categories, c)
	}
	slices.Sort(categories)
	for _, c := range categories {
		where := "the policy file, category " + c
		for _, rt := range r.Categories[c].Routes {
			if rt.Channel != "" && !slices.ContainsFunc(s.Channels, func(u doctor.Use) bool { return u.ID == rt.Channel }) {
				s.Channels = append(s.Channels, doctor.Use{ID: rt.Channel, Where: where})
			}
			for _, id := range rt.Reviewers {
				s.People = append(s.People, doctor.Use{ID: id, Where: where})
			}
		}
	}
	return s, nil
}

// checkAtStart runs the setup checks beside the bot's start and logs a warning for each problem
// or warning found; nothing waits for them and nothing fails on them. The checks the start makes
// itself, and the model call, are left out (see [doctor.Setup.Start]). stop ends them and
// returns once they have.
func checkAtStart(ctx context.Context, cfg Config, logger *slog.Logger, held *handlers.SetupChecks) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		setup, err := doctorSetup(cfg)
		if err != nil {
			return // serve has refused the policy file already
		}
		setup.Start = true
		report := doctor.Run(ctx, setup)
		if ctx.Err() != nil {
			return
		}
		for _, f := range report {
			if f.Status >= doctor.Warning {
				logger.WarnContext(ctx, "setup check failed", "check", f.Check, "status", f.Status.String(), "found", f.Detail, "fix", f.Fix)
			}
		}
		held.Set(findings(report), time.Now().UTC())
		logger.InfoContext(ctx, "setup checked ('expensebot doctor' checks everything)",
			"problems", report.Count(doctor.Problem), "warnings", report.Count(doctor.Warning))
	}()
	return func() { cancel(); <-done }
}

// setupCheck runs the checks of a start again, for the App Home's "Check the setup again".
func setupCheck(cfg Config) func(ctx context.Context) []handlers.SetupFinding {
	return func(ctx context.Context) []handlers.SetupFinding {
		setup, err := doctorSetup(cfg)
		if err != nil {
			return []handlers.SetupFinding{{Mark: doctor.Problem.Symbol(), Check: "configuration", Detail: err.Error(), Attention: true}}
		}
		setup.Start = true
		return findings(doctor.Run(ctx, setup))
	}
}

// findings is a report as the App Home's admin section shows it (doctor.Run has redacted every
// secret from it).
func findings(r doctor.Report) []handlers.SetupFinding {
	out := make([]handlers.SetupFinding, len(r))
	for i, f := range r {
		out[i] = handlers.SetupFinding{Mark: f.Status.Symbol(), Check: f.Check, Detail: f.Detail, Fix: f.Fix, Attention: f.Status >= doctor.Warning}
	}
	return out
}
