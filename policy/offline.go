package policy

import (
	"context"
	"strings"
	"unicode"

	"github.com/expensebot/expensebot"
)

// Offline is the sandbox's stand-in for a model, used when no OPENAI_API_KEY is set. It is
// deterministic and deliberately simple, and every assessment it makes is marked Offline so that
// messages say so. Its rules, in order:
//
//   - words of an instruction ("ignore", "approve this", "system:", "you must") → review, flag suspicious
//   - personal words ("personal", "vacation", "gift for my", "casino", "gym") → review, flag personal
//   - a description under three words, or vague ("misc", "stuff", "things", "various") → review,
//     flag ambiguous_description
//   - anything else → approve with confidence 0.97
//
// The policy still decides: an approval here auto-approves only below the limits.
type Offline struct{}

// OfflineModel names the offline assessor in the audit trail.
const OfflineModel = "offline-rules-v1"

var (
	suspiciousWords = []string{"ignore", "approve this", "system:", "you must", "disregard", "instruction"}
	personalWords   = []string{"personal", "vacation", "holiday", "gift for my", "casino", "gym", "birthday", "netflix"}
	vagueWords      = []string{"misc", "stuff", "things", "various", "sundry", "expenses"}
)

// Assess applies the rules above.
func (Offline) Assess(_ context.Context, e expensebot.Expense) (*expensebot.Assessment, error) {
	a := &expensebot.Assessment{Model: OfflineModel, PromptVersion: "offline", ConfidenceSource: "offline", Offline: true}
	d := strings.ToLower(e.Description)
	words := strings.FieldsFunc(d, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	switch {
	case containsAny(d, suspiciousWords):
		a.Decision, a.Confidence, a.Flags = expensebot.AIReview, 0.9, []string{"suspicious"}
		a.Reasons = []string{"the description reads like an instruction"}
	case containsAny(d, personalWords):
		a.Decision, a.Confidence, a.Flags = expensebot.AIReview, 0.8, []string{"personal"}
		a.Reasons = []string{"the description suggests a personal expense"}
	case len(words) < 2 || containsAny(d, vagueWords):
		a.Decision, a.Confidence, a.Flags = expensebot.AIReview, 0.7, []string{"ambiguous_description"}
		a.Reasons = []string{"the description does not say what was bought"}
	default:
		a.Decision, a.Confidence = expensebot.AIApprove, 0.97
		a.Reasons = []string{"an ordinary business expense by its description"}
	}
	return a, nil
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
