package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/policy"
	"github.com/expensebot/expensebot/sandbox"
)

// defaultSandboxAddr is where the page is served unless --addr says otherwise; when the port is
// taken a free one is used instead.
const defaultSandboxAddr = "127.0.0.1:8765"

// runSandbox starts the whole product on this machine: the fake Slack, the real bot connected to
// it over Socket Mode, the SQLite store and an assessor, and the web page. It prints one URL.
func runSandbox(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	addr := fs.String("addr", defaultSandboxAddr, "address for the web page")
	demo := fs.Bool("demo", false, "fill the workspace with expenses in every state")
	verbose := fs.Bool("v", false, "log what the bot does to stderr")
	if err := parseFlags(fs, args, stdout, "sandbox [--demo] [--addr HOST:PORT] [-v]"); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ws, err := sandbox.NewWorkspace()
	if err != nil {
		return err
	}
	defer ws.Close()
	if cfg.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "expensebot-sandbox-")
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		defer os.RemoveAll(dir)
		// A fresh database each run: the fake workspace starts empty too.
		cfg.DatabaseURL = "sqlite://" + filepath.Join(dir, "sandbox.db")
		cfg.Migrate = true // a new database is always behind
	}
	cfg.SlackAPIURL, cfg.SlackAppToken, cfg.SlackBotToken = ws.APIURL(), fakeslack.AppToken, fakeslack.BotToken
	cfg.ApprovalsChannel, cfg.Reviewers = sandbox.Approvals, sandbox.Reviewers
	apiLine, err := sandboxAPI(&cfg)
	if err != nil {
		return err
	}
	var assessor approval.Assessor = policy.Offline{}
	lim := newPace(cfg)
	if cfg.OpenAIAPIKey != "" {
		assessor = newAssessor(cfg, lim)
		logger.Info("AI check on", "model", cfg.OpenAIModel)
	} else {
		logger.Info("AI check by the offline assessor (sandbox rules, not a model)")
	}
	var reader approval.ReceiptReader = sandbox.OfflineReceipts{}
	if cfg.OpenAIAPIKey != "" {
		reader = newReader(cfg, lim)
	} else {
		logger.Info("receipts read by the offline extractor (sandbox samples, not a model)")
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil && *addr == defaultSandboxAddr {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return fmt.Errorf("sandbox: listen on %s: %w", *addr, err)
	}
	ui := sandbox.NewUI(ws, sandbox.People)
	ui.Ops = "http://" + cfg.MetricsAddr
	page := &http.Server{Handler: ui, ReadHeaderTimeout: 5 * time.Second}
	go page.Serve(ln)
	defer page.Close()

	appCtx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- serve(appCtx, cfg, logger, assessor, reader) }()
	if err := waitConnected(ctx, ws, served); err != nil {
		return err
	}
	if *demo {
		if err := sandbox.Demo(ws); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "expensebot sandbox: open http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	fmt.Fprintln(stdout, apiLine)
	select {
	case <-ctx.Done():
		stop()
		return <-served
	case err := <-served:
		return err
	}
}

func waitConnected(ctx context.Context, ws *fakeslack.Server, served chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	for ws.Connections() == 0 {
		select {
		case err := <-served:
			if err == nil {
				err = errors.New("the bot stopped")
			}
			return fmt.Errorf("sandbox: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("sandbox: the bot did not connect to the fake Slack")
		}
	}
	return nil
}
