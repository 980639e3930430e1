// Package doctor checks a setup before an employee finds out what is wrong with it: the Slack
// tokens and the scopes they were granted, the bot's place in every approvals channel, the
// reviewers, the database and its migrations, the model and the exchange rates. Every check
// gives a [Finding] that says what was checked, what was found and, when something is wrong,
// what to do about it, in words for the person who administers the app. No finding ever
// contains a token or a key.
package doctor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/expensebot/expensebot/store"
)

// Status is how a check came out.
type Status int

// Statuses, from best to worst.
const (
	OK      Status = iota // works
	Info                  // works, with a feature off that the administrator may want on
	Warning               // works, but something stops working or works less well
	Problem               // something fails: fix it before relying on the bot
)

var statusInfo = [...]struct{ symbol, word string }{
	OK:      {"✓", "ok"},
	Info:    {"·", "info"},
	Warning: {"!", "warning"},
	Problem: {"✗", "problem"},
}

// Symbol is the mark printed before a finding: ✓ · ! ✗.
func (s Status) Symbol() string { return statusInfo[s].symbol }

func (s Status) String() string { return statusInfo[s].word }

// Finding is the outcome of one check.
type Finding struct {
	Check  string // what was checked, e.g. "bot token (SLACK_BOT_TOKEN)"
	Status Status
	Detail string // what was found
	Fix    string // for a warning or a problem: what to do; "" otherwise
}

// Report is every finding of a checkup, in the order of the checks.
type Report []Finding

// Count is the number of findings with status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, f := range r {
		if f.Status == s {
			n++
		}
	}
	return n
}

// Write prints one line per finding, its fix indented beneath, and a closing count.
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	for _, f := range r {
		fmt.Fprintf(&b, "%s %s: %s\n", f.Status.Symbol(), f.Check, f.Detail)
		if f.Fix != "" {
			fmt.Fprintf(&b, "    fix: %s\n", f.Fix)
		}
	}
	p, wn := r.Count(Problem), r.Count(Warning)
	switch {
	case p == 0 && wn == 0:
		b.WriteString("\nAll checks passed.\n")
	default:
		fmt.Fprintf(&b, "\n%s, %s.\n", plural(p, "problem"), plural(wn, "warning"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Setup is what to check. Empty parts are checked for being empty where the bot needs them
// (the tokens), and otherwise skipped.
type Setup struct {
	Slack    Slack
	Manifest []byte // the app manifest, whose bot scopes are compared with the granted ones
	Channels []Use  // approvals channels (C… or G…)
	People   []Use  // user ids (U…, W…) and user-group ids (S…) who decide or are told
	// Database reads the migrations the database has applied; nil: the database is not checked.
	Database func(ctx context.Context) (store.MigrationStatus, error)
	Model    Model
	Rates    Rates
	// Secrets are further values that must never be shown, such as a database password; the
	// tokens and the API key are never shown anyway.
	Secrets []string
	// Start leaves out what the bot's start checks itself or what would cost a paid call at every
	// start: the app token's connection, the database (opened just before), the model call and
	// the fetch of the rates URL.
	Start bool
	// Timeout bounds each call; default 15s.
	Timeout time.Duration
}

// Slack is how to reach the workspace.
type Slack struct {
	APIURL   string // Web API base URL ending in /
	BotToken string // xoxb-…
	AppToken string // xapp-…
	Client   *http.Client
}

// Use is an id in the configuration and where it is configured, for the fix to point at.
type Use struct {
	ID    string
	Where string // e.g. "EXPENSEBOT_REVIEWERS", or "policy file, category travel"
}

// Run performs the checks of s in order and returns their findings.
func Run(ctx context.Context, s Setup) Report {
	if s.Timeout <= 0 {
		s.Timeout = 15 * time.Second
	}
	var r Report
	r = append(r, checkSlack(ctx, s)...)
	if s.Database != nil && !s.Start {
		r = append(r, checkDatabase(ctx, s))
	}
	r = append(r, checkModel(ctx, s)...)
	r = append(r, checkRates(ctx, s)...)
	return redact(r, append([]string{s.Slack.BotToken, s.Slack.AppToken, s.Model.APIKey}, s.Secrets...))
}

// redact replaces every secret in the findings: an error text from a library or a provider
// could carry one (OpenAI quotes part of a wrong key back), and none may reach a terminal or log.
func redact(r Report, secrets []string) Report {
	for i := range r {
		for _, s := range secrets {
			if len(s) < 6 {
				continue // too short to be a key; replacing it would garble the text
			}
			r[i].Check = strings.ReplaceAll(r[i].Check, s, "[redacted]")
			r[i].Detail = strings.ReplaceAll(r[i].Detail, s, "[redacted]")
			r[i].Fix = strings.ReplaceAll(r[i].Fix, s, "[redacted]")
		}
	}
	return r
}
