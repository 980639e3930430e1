package sandbox

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/expensebot/expensebot/handlers"
	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/slack-go/slack"
)

// The sandbox's workspace.
const (
	Alice     = "UALICE"
	Bob       = "UBOB"
	Rita      = "URITA"
	Ravi      = "URAVI"
	Approvals = "CAPPROVALS"
	General   = "CGENERAL"
	// ReviewerGroup holds Ravi: reviewers can be named by user group as in a real workspace.
	ReviewerGroup = "S0REVIEWERS"
)

// People are who you can be in the sandbox.
var People = []Person{
	{ID: Alice, Name: "Alice Adams", Role: "employee"},
	{ID: Bob, Name: "Bob Brown", Role: "employee"},
	{ID: Rita, Name: "Rita Reyes", Role: "reviewer"},
	{ID: Ravi, Name: "Ravi Rao", Role: "reviewer"},
}

// Reviewers is what EXPENSEBOT_REVIEWERS holds in the sandbox.
var Reviewers = []string{Rita, ReviewerGroup}

// NewWorkspace starts a fake Slack with the sandbox's people and channels.
func NewWorkspace() (*fakeslack.Server, error) {
	var users []fakeslack.User
	for _, p := range People {
		name := strings.ToLower(strings.Fields(p.Name)[0])
		users = append(users, fakeslack.User{ID: p.ID, Name: name, RealName: p.Name, Email: name + "@example.com"})
	}
	sl, err := fakeslack.New(users...)
	if err != nil {
		return nil, err
	}
	sl.AddChannel(General, "general", fakeslack.BotUser, Alice, Bob, Rita, Ravi)
	sl.AddChannel(Approvals, "expense-approvals", fakeslack.BotUser, Rita, Ravi)
	sl.AddUserGroup(ReviewerGroup, Ravi)
	return sl, nil
}

// Demo fills the workspace with expenses in every state, by doing what people would: typing
// /expense and clicking the reviewers' buttons.
func Demo(sl *fakeslack.Server) error {
	type step struct {
		who, text string
		then      func(ts string) error
	}
	approve := func(who string) func(string) error {
		return func(ts string) error { return click(sl, who, ts, handlers.ActionApprove) }
	}
	ask := func(who, question string) func(string) error {
		return func(ts string) error {
			if err := click(sl, who, ts, handlers.ActionAsk); err != nil {
				return err
			}
			_, _, err := sl.SubmitModal(who, map[string]string{"question": question})
			return err
		}
	}
	steps := []step{
		{Alice, "18.50 Coffee with a candidate #meals", nil},
		{Bob, "2400 KubeCon conference ticket #training", nil},
		{Alice, "640 Hotel in Berlin, two nights #lodging", func(ts string) error {
			if err := click(sl, Rita, ts, handlers.ActionComment); err != nil {
				return err
			}
			_, _, err := sl.SubmitModal(Rita, map[string]string{"comment": "Which client meeting was this for?"})
			return err
		}},
		{Bob, "14000 Team offsite venue #travel", approve(Rita)},
		{Alice, "95 Taxi to the airport #transport", func(ts string) error {
			if err := click(sl, Ravi, ts, handlers.ActionReject); err != nil {
				return err
			}
			_, _, err := sl.SubmitModal(Ravi, map[string]string{"reason": "Please attach the receipt and submit again."})
			return err
		}},
		{Bob, "1200 27-inch monitor #equipment", approve(Rita)},
		{Alice, "380 Client dinner at the harbour #meals", ask(Rita, "Which client was it, and how many of you were there?")},
		{Bob, "260 Team lunch after the release #meals", func(ts string) error {
			if err := ask(Ravi, "Was this the release lunch the team budget already paid for?")(ts); err != nil {
				return err
			}
			return withdrawFromDM(sl, Bob)
		}},
	}
	for _, s := range steps {
		ack, err := sl.Command(s.who, General, "/expense", s.text)
		if err != nil {
			return fmt.Errorf("demo: %s: %w", s.text, err)
		}
		if s.then == nil {
			continue
		}
		// The card to act on is this expense's, named by the id the ack gave: an earlier step's
		// card may well be posted after this step's command.
		m := regexp.MustCompile(`Received your expense #(\d+)`).FindSubmatch(ack.Payload)
		if m == nil {
			return fmt.Errorf("demo: %s: not received: %s", s.text, ack.Payload)
		}
		ts, err := waitForCard(sl, string(m[1]))
		if err != nil {
			return fmt.Errorf("demo: %s: %w", s.text, err)
		}
		if err := s.then(ts); err != nil {
			return fmt.Errorf("demo: %s: %w", s.text, err)
		}
	}
	return nil
}

// withdrawFromDM presses Withdraw on the question in who's DM, as they would.
func withdrawFromDM(sl *fakeslack.Server, who string) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range sl.Messages(who, who) {
			if id, ok := buttonFor(m.Blocks, handlers.ActionWithdraw); ok {
				_, err := sl.ClickMessageButton(who, who, m.TS, id)
				return err
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no question with a Withdraw button reached %s", who)
}

// waitForCard waits for the approval card of expense id and returns its ts.
func waitForCard(sl *fakeslack.Server, id string) (string, error) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range sl.Messages(Approvals, "") {
			if m.ThreadTS == "" && m.EphemeralTo == "" && strings.HasPrefix(m.Text, "Expense #"+id+" from") {
				return m.TS, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("no approval card for expense #%s appeared", id)
}

// click presses the action button (approve, reject, ask, comment) on an approvals message.
func click(sl *fakeslack.Server, who, ts, action string) error {
	m, ok := sl.Message(Approvals, ts)
	if !ok {
		return fmt.Errorf("message %s is gone", ts)
	}
	id, ok := buttonFor(m.Blocks, action)
	if !ok {
		return fmt.Errorf("no %s button", action)
	}
	if _, err := sl.ClickMessageButton(who, Approvals, ts, id); err != nil {
		return err
	}
	if action == handlers.ActionReject || action == handlers.ActionComment || action == handlers.ActionAsk {
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if _, open := sl.Modal(who); open {
				return nil
			}
			time.Sleep(10 * time.Millisecond)
		}
		return fmt.Errorf("the %s form did not open", action)
	}
	return nil
}

// buttonFor finds the action id of the message's button for action (handlers.ActionApprove, …),
// reading the Block Kit as Slack's clients do.
func buttonFor(blocksJSON []byte, action string) (string, bool) {
	var bs slack.Blocks
	if err := json.Unmarshal(blocksJSON, &bs); err != nil {
		return "", false
	}
	for _, b := range bs.BlockSet {
		ab, ok := b.(*slack.ActionBlock)
		if !ok || ab.Elements == nil {
			continue
		}
		for _, el := range ab.Elements.ElementSet {
			if btn, ok := el.(*slack.ButtonBlockElement); ok && strings.HasPrefix(btn.ActionID, action+":") {
				return btn.ActionID, true
			}
		}
	}
	return "", false
}
