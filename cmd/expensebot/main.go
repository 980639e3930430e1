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
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/expensebot/expensebot/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout, os.Stderr); err != nil {
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

// version is set at build time with -ldflags "-X main.version=…"; otherwise the module version.
var version = ""

const usage = `expensebot: human-in-the-loop expense approval for Slack.

Usage:
  expensebot [run]        connect to Slack over Socket Mode and work (the default)
  expensebot sandbox [--demo] [--addr HOST:PORT] [-v]
                          the whole app on this machine, in a Slack-like web page
  expensebot migrate      apply database migrations and exit
  expensebot doctor       check the setup (Slack, channels, reviewers, database, model, rates)
  expensebot export [--since YYYY-MM-DD] [--format csv|jsonl]
                          write the audit trail, one row per event, to stdout
  expensebot expenses [--since D] [--until D] [--status approved] [--format csv|xero|qbo]
                      [--mark-exported] [--include-exported]
                          write decided expenses, one per row, for an accounting import
  expensebot report [--since 90d] [--until D] [--format text|json]
                          how the AI's advice and the controls did, per category
  expensebot policy       print the routing rules in effect and their version
  expensebot policy simulate FILE [--since 90d]
                          replay stored expenses through the policy file FILE: which routes change
  expensebot version      print the version
  expensebot help         this text

Configuration comes from the environment:
`

// run is the whole program: main only supplies the process's arguments and streams. Configuration
// comes from the process environment, which envconfig reads itself; tests set it with t.Setenv.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd, rest := "run", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return printConfigHelp(stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, "expensebot", buildVersion())
		return nil
	case "doctor":
		return runDoctor(ctx, rest, stdout)
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	switch cmd {
	case "run":
		if len(rest) > 0 {
			return usageError{fmt.Sprintf("run takes no arguments, got %q", strings.Join(rest, " "))}
		}
		return runBot(ctx, cfg, logger, stdout)
	case "migrate":
		db, err := store.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer db.Close()
		fmt.Fprintf(stdout, "%s database is up to date\n", db.Dialect())
		return nil
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
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
