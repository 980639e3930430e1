package bot_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/bot"
	"github.com/expensebot/expensebot/internal/fakeopenai"
	"github.com/expensebot/expensebot/internal/fakeslack"
)

// TestShutdownFinishesWorkInFlight: SIGTERM while the AI is thinking lets that assessment finish
// and be recorded; the DM it queued goes out after the next start.
func TestShutdownFinishesWorkInFlight(t *testing.T) {
	h := newHarness(t, "sqlite")
	h.ai.Reply(fakeopenai.Slow(700*time.Millisecond, fakeopenai.Answer("approve", 0.99)))
	in := h.start()
	h.command(emp, "20 Printer paper")
	h.eventually("the AI is being asked", func() bool { return len(h.ai.Requests()) == 1 })
	if err := in.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	list, _ := h.db.BySubmitter(context.Background(), emp, 0, 1)
	if len(list) != 1 || list[0].Status != expensebot.StatusAutoApproved {
		t.Fatalf("the assessment in flight was dropped at shutdown: %+v", list)
	}
	h.ai.Reply(fakeopenai.Answer("approve", 0.99))
	h.start()
	h.dm(emp, "(20.00 USD, Printer paper) was approved automatically")
}

func TestBadTokensStopWithAClearError(t *testing.T) {
	sl, err := fakeslack.New()
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	db := newHarness(t, "sqlite").db
	tests := []struct {
		name, app, bot, want string
	}{
		{"bot token refused", fakeslack.AppToken, "xoxb-revoked", "SLACK_BOT_TOKEN was refused by Slack (auth.test: invalid_auth)"},
		{"app token refused", "xapp-revoked", fakeslack.BotToken, "check SLACK_APP_TOKEN"},
	}
	for _, tt := range tests {
		b := assemble(options{Slack: bot.Config{AppToken: tt.app, BotToken: tt.bot, APIURL: sl.APIURL()},
			Workflow: approval.Config{Rules: testRules}, Store: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := b.Run(ctx)
		cancel()
		if !errors.Is(err, bot.ErrFatal) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
		if err != nil && (strings.Contains(err.Error(), "revoked")) {
			t.Errorf("%s: the token leaked into the error: %v", tt.name, err)
		}
	}
}

// TestSlackUnreachableIsNotABadToken: with no answer from Slack the error says so, and does not
// send the operator to regenerate a token that is fine.
func TestSlackUnreachableIsNotABadToken(t *testing.T) {
	db := newHarness(t, "sqlite").db
	b := assemble(options{Slack: bot.Config{AppToken: fakeslack.AppToken, BotToken: fakeslack.BotToken, APIURL: "http://127.0.0.1:1/api/"},
		Workflow: approval.Config{Rules: testRules}, Store: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := b.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot reach Slack at http://127.0.0.1:1/api/") || strings.Contains(err.Error(), "refused by Slack") || strings.Contains(err.Error(), fakeslack.BotToken) {
		t.Errorf("got %v", err)
	}
}
