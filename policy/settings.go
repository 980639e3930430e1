package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/expensebot/expensebot"
)

// Settings are the rules an administrator may change while the bot runs: the routing limits and
// categories, the default approvals channel and reviewers, escalation and the timers. The
// environment and the policy file give the first version; each change in the App Home is a new
// one, stored in the database and applied by every instance.
type Settings struct {
	Rules            Rules
	ApprovalsChannel string
	Reviewers        []string // user ids and user-group ids
	EscalateTo       []string // user ids and user-group ids
	Timing           expensebot.Timing
}

// Version names the settings: equal settings have equal versions. It is what a route records as
// its rules version. Accounts and the accounting section route nothing and are left out.
func (s Settings) Version() string {
	b, _ := json.Marshal(struct {
		Rules      Rules
		Channel    string
		Reviewers  []string
		EscalateTo []string
		Timing     expensebot.Timing
	}{s.Rules, s.ApprovalsChannel, slices.Sorted(slices.Values(s.Reviewers)), slices.Sorted(slices.Values(s.EscalateTo)), s.Timing})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// settingsDoc is how Settings are stored: everything, accounts included, with durations written
// as people write them, so that the audit trail's diffs read well.
type settingsDoc struct {
	ApprovalsChannel string            `json:"approvals_channel"`
	Reviewers        []string          `json:"reviewers"`
	EscalateTo       []string          `json:"escalate_to"`
	RemindAfter      string            `json:"remind_after"`
	EscalateAfter    string            `json:"escalate_after"`
	ExpireAfter      string            `json:"expire_after"`
	Rules            Rules             `json:"rules"`
	Accounting       Accounting        `json:"accounting"`
	Accounts         map[string]string `json:"accounts,omitempty"` // category → ledger account
}

// Encode writes s as stored in the database.
func (s Settings) Encode() (json.RawMessage, error) {
	d := settingsDoc{ApprovalsChannel: s.ApprovalsChannel, Reviewers: nonNil(s.Reviewers), EscalateTo: nonNil(s.EscalateTo),
		RemindAfter: expensebot.FormatDuration(s.Timing.RemindAfter), EscalateAfter: expensebot.FormatDuration(s.Timing.EscalateAfter),
		ExpireAfter: expensebot.FormatDuration(s.Timing.ExpireAfter), Rules: s.Rules, Accounting: s.Rules.Accounting}
	for name, c := range s.Rules.Categories {
		if c.Account != "" {
			if d.Accounts == nil {
				d.Accounts = map[string]string{}
			}
			d.Accounts[name] = c.Account
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("policy: encode settings: %w", err)
	}
	return b, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// DecodeSettings reads settings as [Settings.Encode] wrote them.
func DecodeSettings(b []byte) (Settings, error) {
	var d settingsDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return Settings{}, fmt.Errorf("policy: decode settings: %w", err)
	}
	s := Settings{Rules: d.Rules, ApprovalsChannel: d.ApprovalsChannel, Reviewers: d.Reviewers, EscalateTo: d.EscalateTo}
	var err error
	for _, f := range []struct {
		text string
		to   *time.Duration
	}{{d.RemindAfter, &s.Timing.RemindAfter}, {d.EscalateAfter, &s.Timing.EscalateAfter}, {d.ExpireAfter, &s.Timing.ExpireAfter}} {
		if *f.to, err = expensebot.ParseDuration(f.text); err != nil {
			return Settings{}, fmt.Errorf("policy: decode settings: %w", err)
		}
	}
	s.Rules.Accounting = d.Accounting
	if len(d.Accounts) > 0 {
		cats := maps.Clone(s.Rules.Categories)
		if cats == nil {
			cats = map[string]CategoryRule{}
		}
		for name, acc := range d.Accounts {
			c := cats[name]
			c.Account = acc
			cats[name] = c
		}
		s.Rules.Categories = cats
	}
	return s, nil
}

// Change is one setting's value before and after a change, for the audit trail.
type Change struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// Diff returns what changed from a to b, by the setting's path in the stored document
// ("reviewers", "rules.Categories.travel.AutoApproveMax.Minor", "accounts.travel"): the
// rules_changed audit event's detail.
func Diff(a, b Settings) (map[string]Change, error) {
	fa, err := flat(a)
	if err != nil {
		return nil, err
	}
	fb, err := flat(b)
	if err != nil {
		return nil, err
	}
	out := map[string]Change{}
	for k, va := range fa {
		if vb, ok := fb[k]; !ok || !reflect.DeepEqual(va, vb) {
			out[k] = Change{From: va, To: fb[k]}
		}
	}
	for k, vb := range fb {
		if _, ok := fa[k]; !ok {
			out[k] = Change{From: nil, To: vb}
		}
	}
	return out, nil
}

// flat is the stored document of s as path → value; lists are values of their own.
func flat(s Settings) (map[string]any, error) {
	b, err := s.Encode()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("policy: settings: %w", err)
	}
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			if v != nil {
				out[prefix] = v
			}
			return
		}
		keys := slices.Collect(maps.Keys(m))
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			walk(p, m[k])
		}
	}
	walk("", doc)
	return out, nil
}
