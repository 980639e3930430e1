package handlers

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
	"github.com/slack-go/slack"
)

// The admin section of an administrator's App Home, and the settings form it opens. The ids are
// in admin.go.

// adminBlocks is the admin section: the rules in force, the button that changes them, and the
// setup checks' findings with the button that runs them again. It uses at most maxAdminBlocks.
func adminBlocks(set policy.Settings, id int64, checks []SetupFinding, checkedAt time.Time) []slack.Block {
	r := set.Rules
	bs := []slack.Block{
		slack.NewDividerBlock(),
		slack.NewHeaderBlock(plain("Administration")),
		section(fmt.Sprintf("*Approvals channel* %s\n*Reviewers* %s\n*Escalate to* %s",
			channelRef(set.ApprovalsChannel), idRefs(set.Reviewers), idRefs(set.EscalateTo))),
		section(fmt.Sprintf("*Limits* auto-approve below %s · two reviewers above %s · receipt above %s\n*Timers* remind after %s · escalate after %s · expire after %s",
			r.AutoApproveMax, r.ReviewMax, r.ReceiptRequiredOver,
			timerText(set.Timing.RemindAfter), timerText(set.Timing.EscalateAfter), timerText(set.Timing.ExpireAfter))),
	}
	if lines := categoryLines(r); lines != "" {
		bs = append(bs, section("*Categories*\n"+fit(escape(lines), 2900)))
	}
	bs = append(bs,
		contextBlock(fmt.Sprintf("Rules version `%s` (rule set %d). A change applies at once on every instance to the expenses routed after it; those already with reviewers keep theirs.", set.Version(), id)),
		slack.NewActionBlock("admin-actions",
			button(ActionAdminEdit, "Change settings", "edit", slack.StylePrimary),
			button(ActionAdminCheck, "Check the setup again", "check", "")),
	)
	return append(bs, setupBlocks(checks, checkedAt)...)
}

// maxSetupLines is how many findings the App Home lists one by one; the rest are counted.
const maxSetupLines = 8

// setupBlocks shows the setup checks' findings: every problem and warning with its fix, the
// rest counted.
func setupBlocks(checks []SetupFinding, at time.Time) []slack.Block {
	if at.IsZero() {
		return []slack.Block{contextBlock("Setup checks: not run yet on this instance; they run at start, or press *Check the setup again*.")}
	}
	var bs []slack.Block
	ok, shown, hidden := 0, 0, 0
	for _, f := range checks {
		if !f.Attention {
			ok++
			continue
		}
		if shown == maxSetupLines {
			hidden++
			continue
		}
		shown++
		text := fmt.Sprintf("%s *%s*: %s", f.Mark, escape(f.Check), escape(f.Detail))
		if f.Fix != "" {
			text += "\n_Fix:_ " + escape(f.Fix)
		}
		bs = append(bs, section(fit(text, 2900)))
	}
	head := fmt.Sprintf("*Setup checks* (%s): %d fine, %d to look at", slackDate(at), ok, shown+hidden)
	if hidden > 0 {
		head += fmt.Sprintf(" (%d more: run `expensebot doctor`)", hidden)
	}
	return append([]slack.Block{section(head)}, bs...)
}

func timerText(d time.Duration) string {
	if d == 0 {
		return "off"
	}
	return expensebot.FormatDuration(d)
}

func channelRef(c string) string {
	if c == "" {
		return "none"
	}
	return "<#" + c + ">"
}

// idRefs mentions user and user-group ids as Slack shows them.
func idRefs(ids []string) string {
	if len(ids) == 0 {
		return "nobody"
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		if strings.HasPrefix(id, "S") {
			out[i] = "<!subteam^" + id + ">"
		} else {
			out[i] = "<@" + id + ">"
		}
	}
	return strings.Join(out, ", ")
}

// categoryLines writes each category's limits and account as the settings form reads them:
// "travel: auto 500.00, review 5000.00, monthly 2000.00, account 6400", one line each.
func categoryLines(r policy.Rules) string {
	var lines []string
	for _, name := range slices.Sorted(maps.Keys(r.Categories)) {
		c := r.Categories[name]
		var parts []string
		if c.AutoApproveMax != nil {
			parts = append(parts, "auto "+plainAmount(*c.AutoApproveMax))
		}
		if c.ReviewMax != nil {
			parts = append(parts, "review "+plainAmount(*c.ReviewMax))
		}
		if c.MonthlyMax != nil {
			parts = append(parts, "monthly "+plainAmount(*c.MonthlyMax))
		}
		if c.Account != "" {
			parts = append(parts, "account "+c.Account)
		}
		if len(parts) > 0 {
			lines = append(lines, name+": "+strings.Join(parts, ", "))
		}
	}
	return strings.Join(lines, "\n")
}

// plainAmount is an amount without its currency, as the form reads it back.
func plainAmount(m expensebot.Money) string {
	return m.Major()
}

// adminModal is the settings form, filled in with the rules in force (rule set base).
func adminModal(set policy.Settings, base int64) slack.ModalViewRequest {
	var users, groups []string
	for _, id := range set.Reviewers {
		if strings.HasPrefix(id, "S") {
			groups = append(groups, id)
		} else {
			users = append(users, id)
		}
	}
	reviewers := slack.NewOptionsMultiSelectBlockElement(slack.MultiOptTypeUser, plain("Choose people"), inAdminReviewers)
	reviewers.InitialUsers = users
	channel := slack.NewOptionsSelectBlockElement(slack.OptTypeConversations, plain("Choose a channel"), inAdminChannel)
	if set.ApprovalsChannel != "" {
		channel.InitialConversation = set.ApprovalsChannel
	}
	r := set.Rules
	text := func(id, value string, multiline bool) *slack.PlainTextInputBlockElement {
		el := slack.NewPlainTextInputBlockElement(nil, id)
		el.InitialValue, el.Multiline = value, multiline
		return el
	}
	return slack.ModalViewRequest{Type: slack.VTModal, CallbackID: CallbackAdmin, PrivateMetadata: fmt.Sprint(base),
		Title: plain("Expense settings"), Submit: plain("Save"), Close: plain("Cancel"),
		Blocks: blocks(
			section("A change applies at once on every instance to the expenses routed after it, and is written to the audit trail with your name. Expenses already with reviewers keep theirs."),
			input(inAdminReviewers, "Reviewers", reviewers, true, "People who approve and reject expenses"),
			input(inAdminGroups, "Reviewer user groups", text(inAdminGroups, strings.Join(groups, ", "), false), true, "User-group ids (S…), comma-separated: their members review too"),
			input(inAdminChannel, "Approvals channel", channel, false, "Where approval cards are posted: invite the bot there"),
			input(inAdminAutoMax, "Auto-approve below ("+r.Currency+")", text(inAdminAutoMax, plainAmount(r.AutoApproveMax), false), false, "An expense at or above this always goes to a person"),
			input(inAdminReviewMax, "Two reviewers above ("+r.Currency+")", text(inAdminReviewMax, plainAmount(r.ReviewMax), false), false, "Above this, two different reviewers must approve"),
			input(inAdminCategories, "Limits and accounts per category", text(inAdminCategories, categoryLines(r), true), true,
				"One category a line: travel: auto 500, review 5000, monthly 2000, account 6400 (any of the four). A category left out keeps none of them."),
			input(inAdminEscalateTo, "Escalate to", text(inAdminEscalateTo, strings.Join(set.EscalateTo, ", "), false), true, "User and user-group ids (U…, S…), comma-separated, who may also decide an escalated expense"),
			input(inAdminRemind, "Remind after", text(inAdminRemind, expensebot.FormatDuration(set.Timing.RemindAfter), false), false, "e.g. 1d, 8h; 0: no reminders"),
			input(inAdminEscalate, "Escalate after", text(inAdminEscalate, expensebot.FormatDuration(set.Timing.EscalateAfter), false), false, "e.g. 3d; 0: no escalation"),
			input(inAdminExpire, "Expire after", text(inAdminExpire, expensebot.FormatDuration(set.Timing.ExpireAfter), false), false, "e.g. 14d; 0: never"),
		)}
}

// adminSavedModal replaces the form once the change is recorded.
func adminSavedModal(version string) slack.ModalViewRequest {
	return slack.ModalViewRequest{Type: slack.VTModal, Title: plain("Expense settings"), Close: plain("Done"),
		Blocks: blocks(section(fmt.Sprintf(":white_check_mark: Saved as rules version `%s`. Every instance routes the next expense by it.", version)))}
}

// noticeModal tells someone why the settings form did not open.
func noticeModal(text string) slack.ModalViewRequest {
	return slack.ModalViewRequest{Type: slack.VTModal, Title: plain("Expense settings"), Close: plain("Close"),
		Blocks: blocks(section(text))}
}
