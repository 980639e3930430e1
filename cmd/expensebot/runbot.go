package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// runBot connects to Slack and works until ctx ends.
func runBot(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
	if p := cfg.slackProblems(); len(p) > 0 {
		return fmt.Errorf("cannot connect to Slack:\n  %s\n(for a try without Slack: expensebot sandbox)", strings.Join(p, "\n  "))
	}
	return fmt.Errorf("the Slack connection is not built yet")
}
