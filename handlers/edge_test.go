package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// refusingFlow is a workflow that must never be reached: text that cannot be stored is refused
// in the ack, before any workflow call. Any call but the pure ones panics (nil embedded
// interface) or is counted.
type refusingFlow struct {
	workflow
	submits int
}

func (f *refusingFlow) Currency() string { return "USD" }
func (f *refusingFlow) Now() time.Time   { return decided }
func (f *refusingFlow) AIOn() bool       { return true }
func (f *refusingFlow) Submit(context.Context, expensebot.Expense) (expensebot.Expense, bool, error) {
	f.submits++
	return expensebot.Expense{}, false, nil
}

// TestBadTextRefusedAtTheEdge: a NUL byte, another control character or invalid UTF-8 in any
// text typed in Slack is refused in the ack with a message saying what and where (the command's
// ephemeral reply, or the modal's error beside the input, keyed by its block id), and the
// workflow is never called. To add a case, add a row.
func TestBadTextRefusedAtTheEdge(t *testing.T) {
	flow := &refusingFlow{}
	a := New(flow, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))

	commands := []struct{ name, text, want string }{
		{"NUL in the description", "42.50 Taxi\x00", "U+0000, NUL"},
		{"escape sequence", "42.50 \x1b[2JTaxi", "U+001B, escape"},
		{"invalid UTF-8", "42.50 Caf\xe9", "not valid UTF-8"},
	}
	for _, tt := range commands {
		t.Run("command/"+tt.name, func(t *testing.T) {
			ack, work := a.Command(slack.SlashCommand{Text: tt.text, UserID: "UEMP", TriggerID: "T1", TeamID: "T0"})
			m, ok := ack.(Message)
			if !ok || work != nil {
				t.Fatalf("ack = %#v, work = %v; want an ephemeral answer and no work", ack, work != nil)
			}
			if m.ResponseType != slack.ResponseTypeEphemeral || !strings.Contains(m.Text, tt.want) || !strings.Contains(m.Text, "Nothing was submitted") {
				t.Errorf("answer = %q, want it to say %q", m.Text, tt.want)
			}
		})
	}

	form := func(values map[string]string) slack.InteractionCallback {
		state := map[string]map[string]slack.BlockAction{
			inCategory: {inCategory: {SelectedOption: slack.OptionBlockObject{Value: "meals"}}},
		}
		for id, v := range values {
			state[id] = map[string]slack.BlockAction{id: {Value: v}}
		}
		cb := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: "UEMP"}}
		cb.View.ID, cb.View.CallbackID, cb.View.PrivateMetadata = "V1", CallbackExpense, "{}"
		cb.View.State = &slack.ViewState{Values: state}
		return cb
	}
	reason := func(text string) slack.InteractionCallback {
		cb := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: "UREV"}}
		cb.View.ID, cb.View.CallbackID, cb.View.PrivateMetadata = "V2", CallbackReject, `{"expense_id":42,"channel":"C1"}`
		cb.View.State = &slack.ViewState{Values: map[string]map[string]slack.BlockAction{inReason: {inReason: {Value: text}}}}
		return cb
	}
	modals := []struct {
		name  string
		cb    slack.InteractionCallback
		field string
		want  string
	}{
		{"NUL in the description", form(map[string]string{inAmount: "42.50", inDescription: "Team\x00 lunch"}), inDescription, "U+0000, NUL) at character 5"},
		{"invalid UTF-8 in the description", form(map[string]string{inAmount: "42.50", inDescription: "Caf\xe9"}), inDescription, "not valid UTF-8"},
		{"control in the amount", form(map[string]string{inAmount: "42\x0850", inDescription: "Lunch"}), inAmount, "U+0008, backspace"},
		{"line break in the amount", form(map[string]string{inAmount: "42\n50", inDescription: "Lunch"}), inAmount, "one line"},
		{"NUL in a reason", reason("Personal\x00"), inReason, "The reason contains an invisible control character (U+0000, NUL)"},
	}
	for _, tt := range modals {
		t.Run("modal/"+tt.name, func(t *testing.T) {
			ack, work := a.Interaction(tt.cb)
			va, ok := ack.(viewAck)
			if !ok || work != nil || va.ResponseAction != "errors" {
				t.Fatalf("ack = %#v, work = %v; want field errors and no work", ack, work != nil)
			}
			if !strings.Contains(va.Errors[tt.field], tt.want) {
				t.Errorf("errors = %v, want %s to say %q", va.Errors, tt.field, tt.want)
			}
			if _, err := json.Marshal(va); err != nil {
				t.Errorf("the ack cannot be sent: %v", err)
			}
		})
	}
	if flow.submits != 0 {
		t.Errorf("the workflow was asked to submit %d times", flow.submits)
	}

	// What a person can type in any script still goes through, lines and all.
	ack, _ := a.Interaction(form(map[string]string{inAmount: "42.50", inDescription: "Déjeuner d'équipe\n東京 ☕\tok"}))
	if va, ok := ack.(viewAck); ok && va.ResponseAction == "errors" {
		t.Errorf("a good form was refused: %v", va.Errors)
	}
}

// TestErrorsNeutralizeBidi: an error message may quote what was typed; in a modal's field
// error or an ephemeral answer a direction control in it is shown as the placeholder, so the
// message reads in the order typed.
func TestErrorsNeutralizeBidi(t *testing.T) {
	const msg = "\"\u202e05.24\" is not an amount I can read."
	want := `"` + expensebot.BidiPlaceholder + `05.24" is not an amount I can read.`
	if got := fieldErrors(map[string]string{inAmount: msg}).Errors[inAmount]; got != want {
		t.Errorf("field error = %q, want %q", got, want)
	}
	m := failureText(expensebot.Errorf(expensebot.EINVALID, "%s", msg), expensebot.Expense{})
	e := ephemeral(m)
	b, _ := json.Marshal(e)
	if strings.ContainsFunc(string(b), expensebot.IsBidiControl) || !strings.HasSuffix(e.Text, want) {
		t.Errorf("ephemeral = %s", b)
	}
}
