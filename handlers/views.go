package handlers

// This file holds what every view shares: escaping, text objects, sections within Slack's limits,
// and messages. Each surface has its own file (views_card.go, views_dm.go, views_modal.go,
// views_home.go); every builder is pure (data in, Block Kit out) and has a golden file under
// testdata/golden.

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// escape makes user text safe in mrkdwn and text: a description cannot ping @channel or disguise
// a link (Slack asks for exactly &, < and >), and cannot reorder what is around it: direction
// controls are shown as a visible placeholder (see [expensebot.NeutralizeBidi]), so
// "…\u202E00.09" never displays as "…90.00".
func escape(s string) string {
	return escaper.Replace(expensebot.NeutralizeBidi(s))
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// inert makes user text harmless inside a line of mrkdwn: escaped, so it cannot mention or link;
// on one line, so it cannot start a line of its own; and with *, _, ~ and ` replaced by look-alikes
// that Slack does not read as bold, italic, strike or code. A description cannot pose as
// ":white_check_mark: *Approved* by Rita". [inline] also neutralises direction controls.
var inert = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;",
	"*", "∗", "_", "ˍ", "~", "∼", "`", "ˋ", "\r\n", " ", "\n", " ", "\r", " ")

// inline is user text for a line of mrkdwn, at most n characters (cut before it is escaped, so a
// cut never splits an entity).
func inline(s string, n int) string {
	return inert.Replace(expensebot.NeutralizeBidi(expensebot.Truncate(strings.TrimSpace(s), n)))
}

// userText shows text a person typed as a block of its own in plain text, which Slack does not
// parse at all: its lines and characters appear as typed, and none of it formats, mentions or
// links; direction controls are shown as a placeholder, so it displays in the order typed.
func userText(s string) *slack.SectionBlock {
	s = expensebot.NeutralizeBidi(strings.TrimSpace(s))
	if s == "" {
		s = "(empty)"
	}
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.PlainTextType, expensebot.Truncate(s, maxText), false, false), nil, nil)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

// maxText is Slack's limit for a section's or a context element's text.
const maxText = 3000

// fit cuts text to Slack's limit, so that long reasons from a model can never make a message
// Slack refuses (and a notice that can never be delivered).
func fit(text string, n int) string {
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	cut := []rune(expensebot.Truncate(text, n))
	body := string(cut[:len(cut)-1])
	// Never leave half an entity (&am…) or half a link or mention (<@U12…) behind the cut.
	if amp := strings.LastIndexByte(body, '&'); amp >= 0 && !strings.Contains(body[amp:], ";") {
		body = body[:amp]
	}
	if lt := strings.LastIndexByte(body, '<'); lt >= 0 && !strings.Contains(body[lt:], ">") {
		body = body[:lt]
	}
	return body + "…"
}

func section(text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(fit(text, maxText)), nil, nil)
}

func contextBlock(texts ...string) *slack.ContextBlock {
	var els []slack.MixedElement
	for _, t := range texts {
		els = append(els, mrkdwn(fit(t, maxText)))
	}
	return slack.NewContextBlock("", els...)
}

// slackDate renders t in each reader's own time zone, with a UTC fallback.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func button(actionID, text, value string, style slack.Style) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionID, value, plain(text))
	b.Style = style
	return b
}

// Message is what the bot posts or answers with: text is the notification and screen-reader
// fallback, blocks what people see.
type Message struct {
	ResponseType string       `json:"response_type,omitempty"`
	Text         string       `json:"text"`
	Blocks       slack.Blocks `json:"blocks"`
}

// options turns m into slack-go message options.
func (m Message) options() []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks.BlockSet...)}
}

func blocks(bs ...slack.Block) slack.Blocks { return slack.Blocks{BlockSet: bs} }

// ephemeral is a short private answer to whoever acted. Its text may carry an error message
// that quotes what was typed, so direction controls in it are neutralised too.
func ephemeral(text string) Message {
	text = expensebot.NeutralizeBidi(text)
	return Message{ResponseType: slack.ResponseTypeEphemeral, Text: text, Blocks: blocks(section(text))}
}

func summary(e expensebot.Expense) string {
	return fmt.Sprintf("*#%d* · %s · %s · %s", e.ID, e.Amount, categoryLabel(e.Category), inline(e.Description, 80))
}

// receivedMessage answers a quick submission once it is saved, before it is assessed.
func receivedMessage(e expensebot.Expense, aiOn bool) Message {
	check := "The AI check and the policy look at it now"
	if !aiOn {
		check = "The policy looks at it now (the AI check is off)"
	}
	text := fmt.Sprintf("Received your expense #%d: %s · %s. %s; I'll DM you the outcome.", e.ID, e.Amount, inline(e.Description, 80), check)
	return Message{ResponseType: slack.ResponseTypeEphemeral, Text: text, Blocks: blocks(
		slack.NewSectionBlock(mrkdwn(fmt.Sprintf(":inbox_tray: *Received #%d:* %s · %s", e.ID, e.Amount, categoryLabel(e.Category))), nil, attachButton(e)),
		userText(e.Description),
		contextBlock(check+"; I'll DM you the outcome."),
	)}
}

// helpMessage explains /expense.
func helpMessage(currency string) Message {
	text := "*/expense* submits an expense for approval.\n" +
		"• `/expense 42.50 Team lunch`: submit at once (in " + currency + ")\n" +
		"• `/expense 120 EUR Train to Paris`: another currency\n" +
		"• `/expense 38 Taxi to the client #transport`: with a category (" + strings.Join(expensebot.Categories, ", ") + ")\n" +
		"• *Attach receipt* on my reply or DM: add the receipt any time\n" +
		"• `/expense`: open a form with category, date and receipt\n" +
		"• `/expense history`: your last 10 expenses\n" +
		"• `/expense help`: this message\n" +
		"Amounts: `42.50`, `42`, `$2,500`, `2500 USD`, `1.234,56 EUR`."
	return Message{ResponseType: slack.ResponseTypeEphemeral, Text: "How to use /expense", Blocks: blocks(section(text))}
}

var statusEmoji = map[expensebot.Status]string{
	expensebot.StatusSubmitted: ":hourglass_flowing_sand:", expensebot.StatusAssessing: ":hourglass_flowing_sand:",
	expensebot.StatusPendingReview: ":eyes:", expensebot.StatusApproved: ":white_check_mark:",
	expensebot.StatusRejected: ":x:", expensebot.StatusAutoApproved: ":white_check_mark:",
	expensebot.StatusNeedsInfo: ":question:", expensebot.StatusWithdrawn: ":leftwards_arrow_with_hook:", expensebot.StatusExpired: ":hourglass:",
	expensebot.StatusPaid: ":moneybag:",
}

func statusLine(e expensebot.Expense) string {
	return fmt.Sprintf("%s %s — %s", statusEmoji[e.Status], summary(e), e.Status.Label())
}

// historyMessage lists someone's latest expenses.
func historyMessage(list []expensebot.Expense) Message {
	if len(list) == 0 {
		return ephemeral("You have no expenses yet. Try `/expense 42.50 Team lunch`.")
	}
	lines := make([]string, len(list))
	for i, e := range list {
		lines[i] = statusLine(e)
	}
	return Message{ResponseType: slack.ResponseTypeEphemeral, Text: fmt.Sprintf("Your last %d expenses", len(list)),
		Blocks: blocks(section(fmt.Sprintf("*Your last %d expenses*", len(list))), section(strings.Join(lines, "\n")))}
}
