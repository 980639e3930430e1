package handlers

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
	"github.com/slack-go/slack"
)

// Administration in Slack: users in EXPENSEBOT_ADMINS see an admin section in their App Home
// (views_admin.go) with the rules in force and the setup checks' findings, and change the rules
// in a form. Who is an administrator is asked of the workflow when the home is drawn, when the
// form is opened and again when it is submitted: a button in an old view, or a forged payload,
// opens and saves nothing.

// The admin section's ids.
const (
	ActionAdminEdit  = "admin_edit"     // opens the settings form
	ActionAdminCheck = "admin_check"    // runs the setup checks again
	CallbackAdmin    = "admin_settings" // the settings form

	// The settings form's input block ids (each input's action id is the same).
	inAdminReviewers  = "admin_reviewers"
	inAdminGroups     = "admin_groups"
	inAdminChannel    = "admin_channel"
	inAdminAutoMax    = "admin_auto_max"
	inAdminReviewMax  = "admin_review_max"
	inAdminCategories = "admin_categories"
	inAdminEscalateTo = "admin_escalate_to"
	inAdminRemind     = "admin_remind"
	inAdminEscalate   = "admin_escalate"
	inAdminExpire     = "admin_expire"
)

// adminFlow is what the admin section asks of the workflow (*approval.Service has it).
type adminFlow interface {
	Admin(ctx context.Context, user string) bool
	Settings(ctx context.Context, user string) (policy.Settings, int64, error)
}

// SetupFinding is one finding of the setup checks (`expensebot doctor`), as the admin section
// shows it. It never holds a token: the checks redact them before they get here.
type SetupFinding struct {
	Mark      string // ✓, ·, ! or ✗
	Check     string // what was checked, e.g. "approvals channel C0… (EXPENSEBOT_APPROVALS_CHANNEL)"
	Detail    string
	Fix       string
	Attention bool // a warning or a problem
}

// SetupChecks holds the latest findings of the setup checks and runs them again on demand.
type SetupChecks struct {
	check func(ctx context.Context) []SetupFinding // nil: nothing to run

	mu       sync.Mutex
	findings []SetupFinding
	at       time.Time
	running  bool
}

// NewSetupChecks returns the findings holder; check runs the checks (nil: they cannot be run
// from Slack).
func NewSetupChecks(check func(ctx context.Context) []SetupFinding) *SetupChecks {
	return &SetupChecks{check: check}
}

// Set records findings made at.
func (s *SetupChecks) Set(findings []SetupFinding, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.findings, s.at = findings, at
}

// Latest returns the latest findings and when they were made (zero: never).
func (s *SetupChecks) Latest() ([]SetupFinding, time.Time) {
	if s == nil {
		return nil, time.Time{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.findings, s.at
}

// Run runs the checks again and records their findings; a run already going is not doubled.
func (s *SetupChecks) Run(ctx context.Context) {
	if s == nil || s.check == nil {
		return
	}
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return
	}
	s.running = true
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.running = false; s.mu.Unlock() }()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	findings := s.check(ctx)
	if ctx.Err() == nil {
		s.Set(findings, time.Now().UTC())
	}
}

// SetAdministration gives the Messenger what the admin section of an App Home shows.
func (m *Messenger) SetAdministration(flow adminFlow, checks *SetupChecks) {
	m.adminFlow, m.checks = flow, checks
}

// SetSetupChecks gives the App the setup checks its "Check the setup again" button runs.
func (a *App) SetSetupChecks(checks *SetupChecks) { a.checks = checks }

// withAdmin appends the admin section to user's App Home when user is an administrator.
func (m *Messenger) withAdmin(ctx context.Context, user string, v slack.HomeTabViewRequest) slack.HomeTabViewRequest {
	if m.adminFlow == nil || !m.adminFlow.Admin(ctx, user) {
		return v
	}
	set, id, err := m.adminFlow.Settings(ctx, user)
	if err != nil {
		return v
	}
	checks, at := m.checks.Latest()
	section := adminBlocks(set, id, checks, at)
	if room := 100 - len(v.Blocks.BlockSet); len(section) > room { // Slack's limit: the employee part comes first
		section = section[:max(room, 0)]
	}
	v.Blocks.BlockSet = append(v.Blocks.BlockSet, section...)
	return v
}

// openAdminForm handles "Change settings": the form, filled in with the rules in force, for an
// administrator; a notice for anyone else.
func (a *App) openAdminForm(cb slack.InteractionCallback, _ int64) Work {
	w, trigger := whereOf(cb), cb.TriggerID
	return func(ctx context.Context) {
		view := noticeModal(":no_entry: Only the bot's administrators can change its settings.")
		if set, base, err := a.flow.Settings(ctx, w.user); err == nil {
			view = adminModal(set, base)
		} else if expensebot.ErrorCode(err) != expensebot.EFORBIDDEN {
			view = noticeModal(":warning: " + expensebot.ErrorMessage(err))
		}
		if _, err := a.slack.OpenViewContext(ctx, trigger, view); err != nil {
			a.log.Warn("open modal", "action", ActionAdminEdit, "user_id", w.user, "err", err)
		}
	}
}

// checkSetup handles "Check the setup again": the checks run, and the administrator's App Home
// shows their findings.
func (a *App) checkSetup(cb slack.InteractionCallback, _ int64) Work {
	user := cb.User.ID
	return func(ctx context.Context) {
		if !a.flow.Admin(ctx, user) {
			return
		}
		a.checks.Run(ctx)
		a.flow.HomeOpened(ctx, "", user)
	}
}

// submitAdminForm validates the settings form in the ack (each problem beside its input), then
// records the change before acking: the administrator sees it saved, or why not.
func (a *App) submitAdminForm(cb slack.InteractionCallback) (any, Work) {
	user := cb.User.ID
	base, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if user == "" || err != nil {
		return nil, nil
	}
	values := map[string]map[string]slack.BlockAction{}
	if cb.View.State != nil {
		values = cb.View.State.Values
	}
	return Commit(func(ctx context.Context) any {
		cur, id, err := a.flow.Settings(ctx, user)
		if err != nil {
			return fieldErrors(map[string]string{inAdminReviewers: expensebot.ErrorMessage(err)})
		}
		if id != base {
			return fieldErrors(map[string]string{inAdminReviewers: "Someone else changed the settings since this form opened; nothing was saved. Close it and open the settings again."})
		}
		next, errs := parseAdminForm(values, cur)
		if len(errs) > 0 {
			return fieldErrors(errs)
		}
		if err := a.flow.ChangeRules(ctx, user, base, next); err != nil {
			if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
				a.log.Error("change rules", "user_id", user, "err", err)
			}
			return fieldErrors(map[string]string{inAdminReviewers: expensebot.ErrorMessage(err)})
		}
		done := adminSavedModal(next.Version())
		return viewAck{ResponseAction: "update", View: &done}
	}), nil
}

// parseAdminForm reads the settings form over cur (what it does not show, such as a category's
// routes, is kept), or says what is wrong beside each input.
func parseAdminForm(v map[string]map[string]slack.BlockAction, cur policy.Settings) (policy.Settings, map[string]string) {
	errs := map[string]string{}
	next := cur
	text := func(id string) string { return strings.TrimSpace(v[id][id].Value) }
	home := cur.Rules.Currency

	var reviewers []string
	for _, u := range v[inAdminReviewers][inAdminReviewers].SelectedUsers {
		if err := policy.CheckReviewer(u); err != nil {
			errs[inAdminReviewers] = err.Error()
		}
		reviewers = append(reviewers, u)
	}
	groups, err := idList(text(inAdminGroups))
	switch {
	case err != nil:
		errs[inAdminGroups] = err.Error()
	case len(reviewers)+len(groups) == 0:
		errs[inAdminReviewers] = "Choose at least one reviewer, or name a reviewer user group below: otherwise nobody can decide."
	}
	for _, g := range groups {
		if !strings.HasPrefix(g, "S") {
			errs[inAdminGroups] = fmt.Sprintf("%s is not a user-group id (S…); choose people in Reviewers above.", g)
		}
	}
	next.Reviewers = append(reviewers, groups...)

	next.ApprovalsChannel = v[inAdminChannel][inAdminChannel].SelectedConversation
	if err := policy.CheckChannel(next.ApprovalsChannel); err != nil {
		errs[inAdminChannel] = "Choose a channel (public or private) for the approval cards."
	}

	amount := func(id string) expensebot.Money {
		m, err := expensebot.ParseMoney(text(id), home)
		switch {
		case err != nil:
			errs[id] = expensebot.ErrorMessage(err)
		case m.Currency != home:
			errs[id] = fmt.Sprintf("Limits are in %s, the home currency.", home)
		}
		return m
	}
	next.Rules.AutoApproveMax, next.Rules.ReviewMax = amount(inAdminAutoMax), amount(inAdminReviewMax)
	if errs[inAdminAutoMax] == "" && errs[inAdminReviewMax] == "" && next.Rules.ReviewMax.Less(next.Rules.AutoApproveMax) {
		errs[inAdminReviewMax] = fmt.Sprintf("Must not be below the auto-approve limit (%s).", next.Rules.AutoApproveMax)
	}
	cats, err := parseCategories(text(inAdminCategories), cur.Rules.Categories, home)
	if err != nil {
		errs[inAdminCategories] = err.Error()
	}
	next.Rules.Categories = cats

	if next.EscalateTo, err = idList(text(inAdminEscalateTo)); err != nil {
		errs[inAdminEscalateTo] = err.Error()
	}
	duration := func(id string) time.Duration {
		d, err := expensebot.ParseDuration(text(id))
		switch {
		case err != nil:
			errs[id] = err.Error()
		case d < 0:
			errs[id] = "Must not be negative; 0 turns it off."
		}
		return d
	}
	t := expensebot.Timing{RemindAfter: duration(inAdminRemind), EscalateAfter: duration(inAdminEscalate), ExpireAfter: duration(inAdminExpire)}
	switch {
	case errs[inAdminRemind] == "" && t.RemindAfter > 0 && t.RemindAfter < time.Minute:
		errs[inAdminRemind] = "At least 1m, or 0 for no reminders."
	case errs[inAdminEscalate] == "" && t.EscalateAfter > 0 && len(next.EscalateTo) == 0 && errs[inAdminEscalateTo] == "":
		errs[inAdminEscalateTo] = "Name who may decide an escalated expense, or set Escalate after to 0."
	case errs[inAdminEscalate] == "" && errs[inAdminExpire] == "" && t.EscalateAfter > 0 && t.ExpireAfter > 0 && t.EscalateAfter >= t.ExpireAfter:
		errs[inAdminEscalate] = "Must be shorter than Expire after, or an expense expires before it is escalated."
	}
	next.Timing = t
	return next, errs
}

// idList reads comma-separated user and user-group ids.
func idList(s string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		if err := policy.CheckReviewer(f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// parseCategories reads "travel: auto 500, review 5000, monthly 2000, account 6400" lines over
// the categories in force: each line sets those four of its category; a category left out keeps
// none of them; every other rule of a category (its routes, receipt limit, never auto-approve)
// stays as it is.
func parseCategories(text string, cur map[string]policy.CategoryRule, home string) (map[string]policy.CategoryRule, error) {
	out := maps.Clone(cur)
	if out == nil {
		out = map[string]policy.CategoryRule{}
	}
	for name, c := range out {
		c.AutoApproveMax, c.ReviewMax, c.MonthlyMax, c.Account = nil, nil, nil, ""
		out[name] = c
	}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, rest, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("line %d: write a category, a colon, then its limits, e.g. travel: auto 500, review 5000", n+1)
		}
		c := out[name]
		for _, part := range strings.Split(rest, ",") {
			key, val, _ := strings.Cut(strings.TrimSpace(part), " ")
			val = strings.TrimSpace(val)
			if key == "" {
				continue
			}
			if key == "account" {
				if val == "" {
					return nil, fmt.Errorf("line %d: account needs a code or name", n+1)
				}
				c.Account = val
				continue
			}
			if key != "auto" && key != "review" && key != "monthly" {
				return nil, fmt.Errorf("line %d: %q is not auto, review, monthly or account", n+1, key)
			}
			m, err := expensebot.ParseMoney(val, home)
			if err == nil && m.Currency != home {
				return nil, fmt.Errorf("line %d (%s %s): limits are in %s, the home currency", n+1, key, val, home)
			}
			if err != nil {
				return nil, fmt.Errorf("line %d (%s %s): %s", n+1, key, val, expensebot.ErrorMessage(err))
			}
			switch key {
			case "auto":
				c.AutoApproveMax = &m
			case "review":
				c.ReviewMax = &m
			case "monthly":
				c.MonthlyMax = &m
			}
		}
		if c.AutoApproveMax != nil && c.ReviewMax != nil && c.ReviewMax.Less(*c.AutoApproveMax) {
			return nil, fmt.Errorf("line %d: review must not be below auto", n+1)
		}
		out[name] = c
	}
	for name, c := range out { // nothing left of a category: drop it
		if c.AutoApproveMax == nil && c.ReviewMax == nil && c.MonthlyMax == nil && c.Account == "" &&
			c.ReceiptRequiredOver == nil && !c.NeverAutoApprove && len(c.Routes) == 0 {
			delete(out, name)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
