package handlers

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
)

// TestEveryStatusHasItsViews walks every status of the table through the Slack views: each has
// an emoji and a label, the history can be narrowed to it once it is routed, and the card, the
// submitter's DM, the receipt outcome and a late click's answer all say something about it in
// words. A status added later fails here until the views know it.
func TestEveryStatusHasItsViews(t *testing.T) {
	filters := map[expensebot.Status]bool{}
	for _, f := range historyFilters {
		filters[f.status] = true
	}
	for _, st := range expensebot.Statuses {
		t.Run(string(st), func(t *testing.T) {
			info := st.Info()
			e := with(func(e *expensebot.Expense) {
				e.Status = st
				e.DecidedAt = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
				e.DecidedBy = "UREV"
				e.ReviewReasons = []string{"over the limit"}
				if info.Submitter.Has(expensebot.ActAnswer) {
					e.Question, e.QuestionBy, e.PausedAt = "Which client?", "UREV", e.DecidedAt
				}
			})
			if statusEmoji[st] == "" {
				t.Errorf("no emoji for %s", st)
			}
			if info.Label == "" || strings.Contains(info.Label, "_") {
				t.Errorf("label %q", info.Label)
			}
			if st.Routed() != filters[st] {
				t.Errorf("history filter for %s: %v, want %v (every routed status, no other)", st, filters[st], st.Routed())
			}
			texts := []string{statusLine(e), receiptOutcome(e), submitterNotice(e, expensebot.Notice{Kind: expensebot.NoticeTellSubmitter, ExpenseID: e.ID}).Text}
			card := approvalMessage(e, nil, nil)
			b, _ := json.Marshal(card.Blocks)
			texts = append(texts, card.Text, string(b))
			if st.Final() {
				texts = append(texts, alreadyDecided(e), outcomeLine(e))
			}
			for _, text := range texts {
				if text == "" || strings.Contains(text, "Unknown") || strings.Contains(text, string(st)+" ") && strings.Contains(string(st), "_") {
					t.Errorf("%s reads %q", st, text)
				}
			}
			// The card offers the reviewers' buttons exactly when reviewers may decide.
			if got := strings.Contains(string(b), `"`+ActionID(ActionApprove, e.ID)+`"`); got != info.Reviewers.Has(expensebot.ActDecide) {
				t.Errorf("approve button on the card: %v, want %v", got, !got)
			}
		})
	}
}
