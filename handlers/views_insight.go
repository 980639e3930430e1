package handlers

// The reviewers' summary at the bottom of their App Home: the numbers of `expensebot report`
// for the last days, in a few lines.

import (
	"fmt"
	"strings"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/home"
	"github.com/expensebot/expensebot/report"
	"github.com/slack-go/slack"
)

// insightBlocks show s: per category what was automatic and what went to people, how often
// people agreed with the AI's approve by confidence, what the next minimum confidence down and
// up would have changed, the flags and the spot checks. Nothing when there is no summary.
func insightBlocks(s *report.Summary) []slack.Block {
	if s == nil {
		return nil
	}
	title := fmt.Sprintf("*How it went, last %d days*", home.InsightDays)
	if s.All.Routed == 0 {
		return []slack.Block{slack.NewDividerBlock(), section(title), contextBlock("No expense was routed in this period.")}
	}
	var lines []string
	for _, l := range append(s.Categories, s.All) {
		name := categoryLabel(l.Category)
		if name == "" {
			name = "All"
		}
		line := fmt.Sprintf("*%s:* %d routed · %d automatic · %d to people (%s)",
			inline(name, 40), l.Routed, l.AutoApproved, l.ToPeople, toPeople(l))
		if l.AdvisedApprove > 0 {
			line += fmt.Sprintf(" · people agreed with the AI's approve %d of %d", l.AgreedApprove, l.AdvisedApprove)
		}
		if l.MedianDecision > 0 {
			line += " · median time to a decision " + report.Span(l.MedianDecision)
		}
		lines = append(lines, line)
	}
	var notes []string
	var agreed []string
	for _, b := range s.Bands {
		if b.Advised > 0 {
			agreed = append(agreed, fmt.Sprintf("%.2f–%.2f: %d of %d", b.Low, b.High, b.Approved, b.Advised))
		}
	}
	if len(agreed) > 0 {
		notes = append(notes, "When the AI said approve, people approved, by its confidence: "+strings.Join(agreed, " · "))
	}
	if w := whatIfLine(s.Thresholds); w != "" {
		notes = append(notes, w)
	}
	if len(s.Flags) > 0 {
		var fs []string
		for _, f := range s.Flags {
			fs = append(fs, fmt.Sprintf("%s (%d)", expensebot.FlagSentence(f.Flag), f.Count))
		}
		notes = append(notes, "Flagged because "+strings.Join(fs, " · "))
	}
	sc := s.SpotChecks
	notes = append(notes, fmt.Sprintf("Spot checks: %d drawn, %d confirmed, %d flagged, %d waiting · `expensebot report` has the details",
		sc.Drawn, sc.Confirmed, sc.Flagged, sc.Drawn-sc.Confirmed-sc.Flagged))
	return []slack.Block{slack.NewDividerBlock(), section(title + "\n" + strings.Join(lines, "\n")), contextBlock(notes...)}
}

// whatIfLine says what the minimum confidences just below and just above the one in effect would
// have changed.
func whatIfLine(ts []report.Threshold) string {
	var parts []string
	for i, t := range ts {
		if !t.Current {
			continue
		}
		if i > 0 {
			lower := ts[i-1]
			parts = append(parts, fmt.Sprintf("at %.2f, %d more automatic approvals, %d of them rejected by people", lower.MinConfidence, lower.NewlyAuto, lower.NewlyRejected))
		}
		if i+1 < len(ts) {
			higher := ts[i+1]
			parts = append(parts, fmt.Sprintf("at %.2f, %d fewer", higher.MinConfidence, higher.NoLongerAuto))
		}
		return fmt.Sprintf("Minimum AI confidence now %.2f; ", t.MinConfidence) + strings.Join(parts, "; ")
	}
	return ""
}

// toPeople splits a line's "to people" into its columns, each named only when it has expenses
// (approved, rejected and waiting always), so that they add up to it.
func toPeople(l report.Line) string {
	parts := []string{fmt.Sprintf("%d approved", l.Approved), fmt.Sprintf("%d rejected", l.Rejected), fmt.Sprintf("%d waiting", l.Pending)}
	for _, c := range []struct {
		n    int
		what string
	}{{l.NeedsInfo, "waiting for an answer"}, {l.Withdrawn, "withdrawn"}, {l.Expired, "expired"}, {l.Paid, "paid since"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return strings.Join(parts, ", ")
}
