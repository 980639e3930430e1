package handlers

// What the finance controls show: the other expenses a finding is about (on the approval card),
// the spot-check message with its Confirm and Flag buttons, its flag form, and the word to
// finance in its thread; once flagged, its Clear and Do not pay buttons and their forms.

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// maxRelated is how many other expenses one finding lists on a card.
const maxRelated = 10

// sentence capitalises a clause from expensebot.FlagSentence.
func sentence(clause string) string {
	r, n := utf8.DecodeRuneInString(clause)
	return string(unicode.ToUpper(r)) + clause[n:]
}

// flagList names flags as people read them: "it may be a personal expense; it may have been
// claimed before". Never a flag's name.
func flagList(flags []string) string {
	s := make([]string, len(flags))
	for i, f := range flags {
		s[i] = expensebot.FlagSentence(f)
	}
	return strings.Join(s, "; ")
}

// findingBlocks show, under the reasons, each control's finding with the other expenses it is
// about, each linked to its own card when it has one (cards: expense id → permalink).
func findingBlocks(e expensebot.Expense, cards map[int64]string) []slack.Block {
	var bs []slack.Block
	for _, f := range e.Findings {
		lines := []string{findingSentence(f, cards)}
		for i, r := range f.Related {
			if i == maxRelated {
				lines = append(lines, fmt.Sprintf("…and %d more", len(f.Related)-maxRelated))
				break
			}
			lines = append(lines, "• "+relatedLine(r, cards[r.ID]))
		}
		bs = append(bs, section(strings.Join(lines, "\n")))
	}
	return bs
}

// findingSentence says what a control found, as a sentence that links the other expenses it is
// about: ":mag: *It may have been claimed before:* see #39 and #41." Each number links to its
// card when it has one (cards: expense id → permalink), else it is plain #id.
func findingSentence(f expensebot.Finding, cards map[int64]string) string {
	if len(f.Related) == 0 {
		return fmt.Sprintf(":mag: *%s.*", sentence(expensebot.FlagSentence(f.Flag)))
	}
	var refs []string
	for i, r := range f.Related {
		if i == maxRelated {
			refs = append(refs, fmt.Sprintf("%d more", len(f.Related)-maxRelated))
			break
		}
		refs = append(refs, expenseRef(r.ID, cards[r.ID]))
	}
	list := refs[0]
	if len(refs) > 1 {
		list = strings.Join(refs[:len(refs)-1], ", ") + " and " + refs[len(refs)-1]
	}
	return fmt.Sprintf(":mag: *%s:* see %s.", sentence(expensebot.FlagSentence(f.Flag)), list)
}

// expenseRef is "#12", linked to card when there is one.
func expenseRef(id int64, card string) string {
	if card != "" {
		return fmt.Sprintf("<%s|#%d>", card, id)
	}
	return fmt.Sprintf("#%d", id)
}

// relatedLine is one other expense: "#12 · 84.00 USD · meals · 20 Nov 2026 · Team dinner ·
// Auto-approved", its number linked to its card.
func relatedLine(r expensebot.Related, card string) string {
	id := expenseRef(r.ID, card)
	day := r.IncurredOn
	if t, err := time.Parse(time.DateOnly, r.IncurredOn); err == nil {
		day = t.Format("2 Jan 2006")
	}
	return fmt.Sprintf("%s · %s · %s · %s · %s · %s", id, r.Amount(), inline(categoryLabel(r.Category), 40), escape(day), inline(r.Description, 80), r.Status.Label())
}

// spotCheckMessage is the message in the approvals channel for an automatic approval drawn for a
// spot check: the facts, why the policy approved it, the draw, and, until someone looks,
// Confirm and Flag; once flagged, Clear and Do not pay until the flag is settled.
func spotCheckMessage(e expensebot.Expense, sc expensebot.SpotCheck, receipts map[string]string) Message {
	bs := []slack.Block{
		slack.NewHeaderBlock(plain(fmt.Sprintf("Spot check: approved automatically · Expense #%d · %s", e.ID, e.Amount))),
		slack.NewSectionBlock(nil, expenseFields(e), nil),
		userText(e.Description),
		contextBlock(receiptLine(e, receipts)),
		section(aiLine(e.Assessment)),
	}
	if len(e.ReviewReasons) > 0 {
		bs = append(bs, section("*Why the policy approved it:*\n• "+bullets(e.ReviewReasons)))
	}
	bs = append(bs, contextBlock(fmt.Sprintf(":game_die: Drawn at random: %s of automatic approvals are spot-checked (this draw: %s). The approval stands whatever this check finds; a flag tells finance.",
		percent(sc.Rate), strconv.FormatFloat(sc.Draw, 'f', 4, 64))))
	text := fmt.Sprintf("Spot check: expense #%d from <@%s>, %s, approved automatically", e.ID, e.SubmitterID, e.Amount)
	switch sc.Status {
	case expensebot.SpotCheckConfirmed:
		bs = append(bs, slack.NewDividerBlock(), section(fmt.Sprintf(":white_check_mark: *Confirmed* by <@%s> at %s: nothing wrong found", sc.CheckedBy, slackDate(sc.CheckedAt))))
	case expensebot.SpotCheckFlagged, expensebot.SpotCheckCleared, expensebot.SpotCheckUpheld:
		bs = append(bs, slack.NewDividerBlock(), section(fmt.Sprintf(":triangular_flag_on_post: *Flagged* by <@%s> at %s: %s", sc.CheckedBy, slackDate(sc.CheckedAt), inline(sc.Finding, 1000))))
		switch sc.Status {
		case expensebot.SpotCheckCleared:
			bs = append(bs, section(fmt.Sprintf(":white_check_mark: *Cleared* by <@%s> at %s: %s", sc.SettledBy, slackDate(sc.SettledAt), inline(sc.Settlement, 1000))),
				contextBlock("It may be paid: the accounting export includes it."))
		case expensebot.SpotCheckUpheld:
			bs = append(bs, section(fmt.Sprintf(":no_entry: *Must not be paid*, said <@%s> at %s: %s", sc.SettledBy, slackDate(sc.SettledAt), inline(sc.Settlement, 1000))),
				contextBlock("It stays out of the accounting export; if it was paid already, finance recovers it."))
		default:
			value := strconv.FormatInt(e.ID, 10)
			bs = append(bs, contextBlock("Held back from the accounting export until a reviewer or finance clears it."),
				slack.NewActionBlock(fmt.Sprintf("spot-%d-settle", e.ID),
					button(ActionID(ActionSpotClear, e.ID), "Clear", value, slack.StylePrimary),
					button(ActionID(ActionSpotUphold, e.ID), "Do not pay", value, slack.StyleDanger)))
		}
	default:
		value := strconv.FormatInt(e.ID, 10)
		bs = append(bs, slack.NewActionBlock(fmt.Sprintf("spot-%d-actions", e.ID),
			button(ActionID(ActionSpotConfirm, e.ID), "Confirm", value, slack.StylePrimary),
			button(ActionID(ActionSpotFlag, e.ID), "Flag", value, slack.StyleDanger)))
	}
	return Message{Text: text, Blocks: blocks(bs...)}
}

// percent writes a rate such as 0.05 as "5%" (0.125 as "12.5%").
func percent(rate float64) string {
	return strconv.FormatFloat(rate*100, 'f', -1, 64) + "%"
}

// settledAs says how a flag was settled: "cleared", "upheld (must not be paid)".
func settledAs(status string) string {
	if status == expensebot.SpotCheckUpheld {
		return "upheld (must not be paid)"
	}
	return status
}

// financeMessage is the reply in a spot check's thread when a reviewer flags it, and when the
// flag is cleared or upheld, mentioning finance (user ids U…/W…, user-group ids S…).
func financeMessage(e expensebot.Expense, n expensebot.Notice, finance []string) Message {
	var who []string
	for _, id := range finance {
		if strings.HasPrefix(id, "S") {
			who = append(who, "<!subteam^"+id+">")
		} else {
			who = append(who, "<@"+id+">")
		}
	}
	to := "Finance"
	if len(who) > 0 {
		to = strings.Join(who, " ")
	}
	var head string
	switch n.Event {
	case expensebot.EventSpotCleared:
		head = fmt.Sprintf(":white_check_mark: %s: <@%s> cleared the flag on expense #%d (%s): it may be paid, and the accounting export includes it from now on.",
			to, n.Actor, e.ID, e.Amount)
	case expensebot.EventSpotUpheld:
		head = fmt.Sprintf(":no_entry: %s: <@%s> says expense #%d (%s) must not be paid: it stays out of the accounting export. If it was paid already, please recover it.",
			to, n.Actor, e.ID, e.Amount)
	default:
		head = fmt.Sprintf(":triangular_flag_on_post: %s: <@%s> flagged the spot check of expense #%d (%s, approved automatically). The approval stands, but it is held back from the accounting export until a reviewer or finance clears it; please follow up.",
			to, n.Actor, e.ID, e.Amount)
	}
	return Message{Text: head + " " + inline(n.Text, 1000), Blocks: blocks(section(head), userText(n.Text))}
}

// spotFlagModal asks the reviewer what is wrong with a spot-checked expense.
func spotFlagModal(e expensebot.Expense, channel string) slack.ModalViewRequest {
	return textModal(e, channel, CallbackSpotFlag, fmt.Sprintf("Flag #%d", e.ID), "Flag",
		inFinding, "What is wrong?", "e.g. the receipt is for another date", "Finance is told in the spot check's thread; the approval stands")
}

// spotSettleModal asks why a flagged spot check is cleared (clear) or must not be paid.
func spotSettleModal(e expensebot.Expense, channel string, clear bool) slack.ModalViewRequest {
	if clear {
		return textModal(e, channel, CallbackSpotClear, fmt.Sprintf("Clear #%d", e.ID), "Clear",
			inSettlement, "Why may it be paid?", "e.g. the employee sent the receipt for the right date", "Finance is told in the spot check's thread; the accounting export includes it again")
	}
	return textModal(e, channel, CallbackSpotUphold, fmt.Sprintf("Do not pay #%d", e.ID), "Do not pay",
		inSettlement, "Why must it not be paid?", "e.g. a personal purchase", "Finance is told in the spot check's thread; it stays out of the accounting export")
}
