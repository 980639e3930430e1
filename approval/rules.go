package approval

import (
	"context"
	"slices"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
)

// The rules in force live in the database as rule sets (see [RuleSets]): the environment and the
// policy file give the first, each administrator's change in the App Home adds one, and every
// instance applies the newest. An instance asks for the newest rule set's id before it records
// each group of routes (one indexed read of max(id), so that the next expense routed anywhere
// follows a change at once) and every RulesEvery besides (for who is a reviewer in the App Home,
// the timers and the channel check, which have no route to wait for). Routes record the version
// that routed them, with their reviewers, so a change never moves an expense already routed.

// RuleSets stores the versions of the rules (*store.DB has it).
type RuleSets interface {
	// RuleSetID is the newest rule set's id, 0 for none.
	RuleSetID(ctx context.Context) (int64, error)
	// RuleSet is the newest rule set; false when there is none.
	RuleSet(ctx context.Context) (expensebot.RuleSet, bool, error)
	// SeedRuleSet records the environment's rules when they differ from those it gave last, and
	// returns the newest rule set.
	SeedRuleSet(ctx context.Context, rs expensebot.RuleSet) (expensebot.RuleSet, error)
	// ChangeRules records an administrator's rule set with its audit event, if the newest rule set
	// is still base; else ECONFLICT.
	ChangeRules(ctx context.Context, base int64, rs expensebot.RuleSet, ev expensebot.AuditEvent) (expensebot.RuleSet, error)
}

// live is a version of the rules in force on this instance.
type live struct {
	id       int64 // the rule set's id; 0 before the database was asked
	settings policy.Settings
	version  string
}

// rules are the rules in force.
func (s *Service) rules() *live { return s.live.Load() }

// apply makes set the rules in force.
func (s *Service) apply(id int64, set policy.Settings) {
	prev := s.live.Load()
	s.live.Store(&live{id: id, settings: set, version: set.Version()})
	s.reviewers.setConfigured(set.Reviewers)
	if prev != nil && prev.id != 0 && prev.id != id {
		s.log.Info("rules changed", "rule_set", id, "rules_version", set.Version())
		s.homes.MarkReviewers() // who reviews, and so whose App Home shows a queue, may have changed
	}
}

// seedRules records the configured rules as a rule set when they are new, and applies the newest.
func (s *Service) seedRules(ctx context.Context) {
	if s.cfg.RuleSets == nil {
		return
	}
	cur := s.rules().settings
	doc, err := cur.Encode()
	if err != nil {
		s.log.Error("rules: encode the configured rules", "err", err)
		return
	}
	newest, err := s.cfg.RuleSets.SeedRuleSet(ctx, expensebot.RuleSet{Version: cur.Version(), Settings: doc})
	if err != nil {
		s.log.Error("rules: record the configured rules; applying them until the database answers", "err", err)
		return
	}
	s.use(newest)
}

// use applies a rule set read from the database.
func (s *Service) use(rs expensebot.RuleSet) {
	set, err := policy.DecodeSettings(rs.Settings)
	if err != nil {
		s.log.Error("rules: unreadable rule set; keeping the rules in force", "rule_set", rs.ID, "err", err)
		return
	}
	set.Rules.Currency = s.cfg.Rules.Currency // every amount stored is in the home currency
	s.apply(rs.ID, set)
}

// refreshRules applies the newest rule set when it is not the one in force.
func (s *Service) refreshRules(ctx context.Context) {
	if s.cfg.RuleSets == nil {
		return
	}
	id, err := s.cfg.RuleSets.RuleSetID(ctx)
	if err != nil {
		s.log.Warn("rules: ask for the newest version", "err", err)
		return
	}
	if id == 0 || id == s.rules().id {
		return
	}
	rs, ok, err := s.cfg.RuleSets.RuleSet(ctx)
	if err != nil || !ok {
		s.log.Warn("rules: read the newest version", "err", err)
		return
	}
	s.use(rs)
}

func (s *Service) rulesLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.RulesEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.refreshRules(ctx)
		}
	}
}

// Admin reports whether user is one of the administrators (EXPENSEBOT_ADMINS), directly or
// through a user group.
func (r Rights) Admin(ctx context.Context, user string) bool {
	if len(r.s.cfg.Admins) == 0 || user == "" {
		return false
	}
	ok, _ := r.s.admins.allowed(ctx, user, nil)
	return ok
}

// Admin reports whether user may change the rules.
func (s *Service) Admin(ctx context.Context, user string) bool { return s.Rights().Admin(ctx, user) }

// Settings returns the rules in force and their rule set's id (what a change is made from), for
// an administrator; EFORBIDDEN for anyone else.
func (s *Service) Settings(ctx context.Context, user string) (policy.Settings, int64, error) {
	if !s.Admin(ctx, user) {
		return policy.Settings{}, 0, notAdmin()
	}
	s.refreshRules(ctx)
	cur := s.rules()
	return cur.settings, cur.id, nil
}

func notAdmin() error {
	return expensebot.Errorf(expensebot.EFORBIDDEN, "Only the bot's administrators (EXPENSEBOT_ADMINS) can change its settings.")
}

// ChangeRules makes next the rules in force on every instance, as user changed them from the rule
// set base: a new rule set, with a rules_changed audit event saying who changed what. Only an
// administrator may (checked again here, whatever the form showed); a change made from a version
// that is no longer the newest is refused (ECONFLICT) rather than undoing someone else's.
func (s *Service) ChangeRules(ctx context.Context, user string, base int64, next policy.Settings) error {
	if !s.Admin(ctx, user) {
		return notAdmin()
	}
	if s.cfg.RuleSets == nil {
		return expensebot.Errorf(expensebot.EINVALID, "This instance keeps no versions of its rules, so they cannot be changed here.")
	}
	s.refreshRules(ctx)
	cur := s.rules()
	if cur.id != base {
		return expensebot.Errorf(expensebot.ECONFLICT, "Someone else changed the settings meanwhile; nothing was saved. Open the settings again to see theirs.")
	}
	next.Rules.Currency = s.cfg.Rules.Currency
	next.Reviewers = slices.Compact(slices.Sorted(slices.Values(next.Reviewers)))
	next.EscalateTo = slices.Compact(slices.Sorted(slices.Values(next.EscalateTo)))
	diff, err := policy.Diff(cur.settings, next)
	if err != nil {
		return err
	}
	if len(diff) == 0 {
		return nil
	}
	doc, err := next.Encode()
	if err != nil {
		return err
	}
	version := next.Version()
	ev := expensebot.NewEvent(0, expensebot.EventRulesChanged, user, map[string]any{
		"from_rule_set": cur.id, "from_version": cur.version, "to_version": version, "changes": diff})
	rs, err := s.cfg.RuleSets.ChangeRules(ctx, base, expensebot.RuleSet{Version: version, ChangedBy: user, Settings: doc}, ev)
	if err != nil {
		return err
	}
	s.log.Info("rules changed by an administrator", "user_id", user, "rule_set", rs.ID, "rules_version", version, "changes", len(diff))
	s.apply(rs.ID, next)
	s.homes.Mark(user)
	return nil
}
