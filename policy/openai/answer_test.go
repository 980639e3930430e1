package openai

import (
	"math"
	"slices"
	"testing"

	"github.com/expensebot/expensebot"
	goopenai "github.com/sashabaranov/go-openai"
)

func TestParseAnswerFence(t *testing.T) {
	a, err := ParseAnswer("```json\n{\"decision\":\"review\",\"confidence\":0.5,\"reasons\":[\"vague\"],\"flags\":[\"ambiguous_description\"]}\n```")
	if err != nil || a.Decision != "review" || a.Flags[0] != "ambiguous_description" {
		t.Errorf("fenced answer: %+v %v", a, err)
	}
}

func TestDecisionProbability(t *testing.T) {
	toks := []goopenai.LogProb{{Token: `{"`}, {Token: `decision`}, {Token: `":"`}, {Token: `appro`, LogProb: math.Log(0.8)}, {Token: `ve","confidence":0.99}`}}
	if p, ok := decisionProbability(toks, "approve"); !ok || math.Abs(p-0.8) > 1e-9 {
		t.Errorf("p = %v ok=%v", p, ok)
	}
	if _, ok := decisionProbability(toks, "reject"); ok {
		t.Errorf("a decision that is not in the tokens was found")
	}
	if _, ok := decisionProbability(nil, "approve"); ok {
		t.Errorf("found a probability in no tokens")
	}
}

// FuzzParseAnswer: whatever a model writes, the parser never panics, and what it accepts is valid.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{`{"decision":"approve","confidence":0.9,"reasons":[],"flags":[]}`, `{}`, `null`, "```json\n{}\n```", `{"decision":1}`, `[`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAnswer(s)
		if err != nil {
			return
		}
		if a.Confidence < 0 || a.Confidence > 1 || (a.Decision != "approve" && a.Decision != "reject" && a.Decision != "review") {
			t.Fatalf("accepted %+v from %q", a, s)
		}
		for _, fl := range a.Flags {
			if !slices.Contains(expensebot.Flags, fl) {
				t.Fatalf("accepted flag %q", fl)
			}
		}
	})
}
