// Command expensebot runs the expense approval Slack app, and the tools around it: database
// migrations, the audit export for finance, and a sandbox that shows the whole product on a laptop.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/expensebot/expensebot/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errNoCommand) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "expensebot:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line rather than a failure.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg + " (see 'expensebot help')" }

const usage = `expensebot: human-in-the-loop expense approval for Slack.

Usage:
  expensebot run          connect to Slack over Socket Mode and work; bare expensebot does
                          this too when SLACK_APP_TOKEN and SLACK_BOT_TOKEN are set
  expensebot sandbox [--demo] [--addr HOST:PORT] [-v]
                          the whole app on this machine, in a Slack-like web page
  expensebot migrate      apply database migrations and exit
  expensebot doctor       check the setup (Slack, channels, reviewers, database, model, rates)
  expensebot export [--since YYYY-MM-DD] [--format csv|jsonl]
                          write the audit trail, one row per event, to stdout
  expensebot expenses [--since D] [--until D] [--status approved] [--format csv|xero|qbo]
                      [--mark-exported] [--include-exported]
                          write decided expenses, one per row, for an accounting import
  expensebot paid BATCH | paid --expense ID... [--reference TEXT] [--by NAME]
                          record that approved expenses were paid; their submitters are told
  expensebot report [--since 90d] [--until D] [--format text|json]
                          how the AI's advice and the controls did, per category
  expensebot policy       print the routing rules in effect and their version
  expensebot policy simulate FILE [--since 90d]
                          replay stored expenses through the policy file FILE: which routes change
  expensebot healthcheck [--url URL]
                          ask a running expensebot's /healthz (for a container's HEALTHCHECK)
  expensebot version      print the version, commit and build date
  expensebot help         this text
Every command takes --help. Durations are Go's (90m, 10s) or days: 14d, 1d12h.

Configuration comes from the environment:
`

// run is the whole program: main only supplies the process's arguments and streams. Configuration
// comes from the process environment, which envconfig reads itself; tests set it with t.Setenv.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		// Bare expensebot runs the bot when it has the tokens to; otherwise it was typed by a
		// person, who gets the commands rather than a list of missing variables.
		if os.Getenv("SLACK_APP_TOKEN") == "" || os.Getenv("SLACK_BOT_TOKEN") == "" {
			fmt.Fprint(stdout, strings.TrimSuffix(usage, "\nConfiguration comes from the environment:\n"))
			fmt.Fprintln(stdout, "Set SLACK_APP_TOKEN and SLACK_BOT_TOKEN to run; expensebot help lists every variable; expensebot sandbox tries it without Slack.")
			return errNoCommand
		}
		args = append(args, "run")
	}
	cmd, rest := args[1], args[2:]
	err := dispatch(ctx, cmd, rest, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// errNoCommand is bare expensebot without Slack tokens: the commands were printed, nothing run.
// main exits 2 on it without another word.
var errNoCommand = errors.New("no command")

func dispatch(ctx context.Context, cmd string, rest []string, stdout, stderr io.Writer) error {
	switch cmd {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return printConfigHelp(stdout)
	case "version", "--version":
		if err := noArgs("version", rest, stdout, "version"); err != nil {
			return err
		}
		fmt.Fprintln(stdout, readBuildInfo())
		return nil
	case "healthcheck":
		return healthcheck(ctx, rest, stdout)
	case "doctor":
		return runDoctor(ctx, rest, stdout)
	}
	// Help is printed whatever the environment holds: a mistake in it must not hide the flags.
	help := wantsHelp(rest)
	cfg, err := loadConfig()
	if err != nil && !help {
		return err
	}
	if cmd != "sandbox" && !help {
		// The sandbox's own default is a throwaway database; every other command uses the data
		// directory's.
		if cfg.DatabaseURL, err = cfg.databaseURL(); err != nil {
			return err
		}
	}
	logger := newLogger(cfg, stderr)
	switch cmd {
	case "run":
		if err := noArgs("run", rest, stdout, "run"); err != nil {
			return err
		}
		return runBot(ctx, cfg, logger, stdout)
	case "migrate":
		if err := noArgs("migrate", rest, stdout, "migrate"); err != nil {
			return err
		}
		return migrate(ctx, cfg, logger, stdout)
	case "export":
		return export(ctx, cfg, rest, stdout)
	case "sandbox":
		return runSandbox(ctx, cfg, rest, stdout, stderr)
	case "policy":
		return printPolicy(ctx, cfg, rest, stdout)
	case "report":
		return printReport(ctx, cfg, rest, stdout)
	case "expenses":
		return exportExpenses(ctx, cfg, rest, stdout, stderr)
	case "paid":
		return recordPaid(ctx, cfg, rest, stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// migrate applies the migrations this binary has and the database lacks, then exits.
func migrate(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
	if err := makeDataDir(cfg.DatabaseURL); err != nil {
		return err
	}
	logger.Info("migrating", "database", describeDatabase(cfg.DatabaseURL))
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "%s database is up to date\n", db.Dialect())
	return nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
