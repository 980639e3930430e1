package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/expensebot/expensebot"
	goopenai "github.com/sashabaranov/go-openai"
)

// Answer is the model's structured reply.
type Answer struct {
	Decision   string   `json:"decision"`
	Confidence float64  `json:"confidence"`
	Reasons    []string `json:"reasons"`
	Flags      []string `json:"flags"`
}

// ParseAnswer validates the model's JSON: every field present, decision known, confidence within
// 0..1, flags from the list. Anything else is an error, and the expense goes to a human.
func ParseAnswer(content string) (Answer, error) {
	content = strings.TrimSpace(content)
	// Some servers wrap JSON in a Markdown fence even when asked not to.
	if strings.HasPrefix(content, "```") {
		content = strings.TrimPrefix(strings.TrimPrefix(content, "```json"), "```")
		content = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(content), "```"))
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader([]byte(content)))
	if err := dec.Decode(&raw); err != nil {
		return Answer{}, fmt.Errorf("not a JSON object")
	}
	for _, f := range []string{"decision", "confidence", "reasons", "flags"} {
		if _, ok := raw[f]; !ok {
			return Answer{}, fmt.Errorf("field %q missing", f)
		}
	}
	var a Answer
	if err := json.Unmarshal([]byte(content), &a); err != nil {
		return Answer{}, fmt.Errorf("fields of the wrong type")
	}
	switch a.Decision {
	case expensebot.AIApprove, expensebot.AIReject, expensebot.AIReview:
	default:
		return Answer{}, fmt.Errorf("decision %q is not approve, reject or review", truncate(a.Decision, 40))
	}
	if math.IsNaN(a.Confidence) || a.Confidence < 0 || a.Confidence > 1 {
		return Answer{}, fmt.Errorf("confidence %v is outside 0..1", a.Confidence)
	}
	for _, f := range a.Flags {
		if !slices.Contains(expensebot.Flags, f) {
			return Answer{}, fmt.Errorf("unknown flag %q", truncate(f, 40))
		}
	}
	if len(a.Reasons) > 10 {
		a.Reasons = a.Reasons[:10]
	}
	for i, r := range a.Reasons {
		a.Reasons[i] = truncate(r, 300)
	}
	return a, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// decisionProbability finds the token that begins the decision's value in the streamed-back
// tokens and returns its probability: how sure the model was when it chose, rather than the
// number it wrote afterwards.
func decisionProbability(tokens []goopenai.LogProb, decision string) (float64, bool) {
	var text strings.Builder
	starts := make([]int, len(tokens))
	for i, t := range tokens {
		starts[i] = text.Len()
		text.WriteString(t.Token)
	}
	s := text.String()
	key := strings.Index(s, `"decision"`)
	if key < 0 {
		return 0, false
	}
	rest := s[key+len(`"decision"`):]
	colon := strings.Index(rest, ":")
	if colon < 0 {
		return 0, false
	}
	quote := strings.Index(rest[colon:], `"`)
	if quote < 0 {
		return 0, false
	}
	valueAt := key + len(`"decision"`) + colon + quote + 1
	if !strings.HasPrefix(s[valueAt:], decision) {
		return 0, false
	}
	for i := len(tokens) - 1; i >= 0; i-- {
		if starts[i] <= valueAt && valueAt < starts[i]+len(tokens[i].Token) {
			p := math.Exp(tokens[i].LogProb)
			if math.IsNaN(p) || p < 0 || p > 1 {
				return 0, false
			}
			return p, true
		}
	}
	return 0, false
}
