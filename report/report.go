// Package report measures how the approval workflow did over a period: per category, what was
// approved automatically and what went to people; for the expenses people decided, how often
// they agreed with the AI's "approve" at each confidence band; what another minimum confidence
// would have changed; the flags raised; and how long people took. It also replays stored
// expenses through the policy, for those what-ifs and for `expensebot policy simulate`.
//
// It is pure: expenses in, numbers out. The command line and the App Home each render a
// [Summary] in their own way.
package report

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
)

// Input is what a summary is made from.
type Input struct {
	// Expenses are every expense created in [From, Until), and the submitters' expenses before
	// From that the controls weigh when replaying them (policy.Span): those only serve as history.
	Expenses   []expensebot.Expense
	SpotChecks []expensebot.SpotCheck // drawn in the period
	From       time.Time
	Until      time.Time
	Rules      policy.Rules // the rules now in effect, for the replays
}

// Summary is how the workflow did over [From, Until).
type Summary struct {
	From          time.Time     `json:"from"`
	Until         time.Time     `json:"until"`
	MinConfidence float64       `json:"min_confidence"`
	Categories    []Line        `json:"categories"` // by category name, only those with expenses
	All           Line          `json:"all"`
	Bands         []Band        `json:"bands"`
	Thresholds    []Threshold   `json:"thresholds"`
	Flags         []FlagCount   `json:"flags"` // most raised first
	SpotChecks    SpotCheckLine `json:"spot_checks"`
}

// Line counts the expenses of one category (or all) routed in the period.
type Line struct {
	Category     string `json:"category"`
	Routed       int    `json:"routed"`        // routed in the period
	AutoApproved int    `json:"auto_approved"` // of those, by the policy
	ToPeople     int    `json:"to_people"`     // of those, sent to a person
	// ToPeople is the sum of the columns below: every status has one (expensebot.StatusInfo.Column).
	Approved  int `json:"approved"`   // by people
	Rejected  int `json:"rejected"`   // by people
	Pending   int `json:"pending"`    // waiting for people
	NeedsInfo int `json:"needs_info"` // waiting for the submitter's answer to a question
	Withdrawn int `json:"withdrawn"`  // by the submitter, or superseded by a resubmission
	Expired   int `json:"expired"`    // nobody decided in time
	Paid      int `json:"paid"`       // approved by people, then paid out (one the policy approved stays automatic)
	// Of the expenses people decided, those the AI advised to approve, and how many of them
	// people approved.
	AdvisedApprove int `json:"advised_approve"`
	AgreedApprove  int `json:"agreed_approve"`
	// MedianDecision is the median time from submission to a person's decision; 0 when nobody
	// decided.
	MedianDecision time.Duration `json:"median_decision_ns"`
}

// Band is a range of AI confidence [Low, High) (the last one includes 1), and, for the
// expenses people decided that the AI advised to approve with a confidence in it, how many
// people approved.
type Band struct {
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
	Advised  int     `json:"advised"`
	Approved int     `json:"approved"`
}

// Threshold is what the period would have looked like with another minimum AI confidence
// (EXPENSEBOT_MIN_CONFIDENCE), every expense with a usable assessment replayed through the
// policy as it is now.
type Threshold struct {
	MinConfidence float64 `json:"min_confidence"`
	Current       bool    `json:"current"`
	AutoApproved  int     `json:"auto_approved"`  // would have been approved automatically
	NewlyAuto     int     `json:"newly_auto"`     // of those, went to people
	NewlyRejected int     `json:"newly_rejected"` // of those, people rejected: approvals that would have been wrong
	NoLongerAuto  int     `json:"no_longer_auto"` // were approved automatically, would have gone to people
}

// FlagCount is how many expenses a flag was raised on, by the AI or a control.
type FlagCount struct {
	Flag  string `json:"flag"`
	Count int    `json:"count"`
}

// SpotCheckLine counts the spot checks drawn in the period.
type SpotCheckLine struct {
	Drawn     int `json:"drawn"`
	Confirmed int `json:"confirmed"`
	Flagged   int `json:"flagged"`
}

// bands are the confidence ranges of [Summary.Bands].
var bands = []float64{0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1}

// thresholds are the minimum confidences the what-if tries, besides the one in effect.
var thresholds = []float64{0.5, 0.7, 0.8, 0.9, 0.95, 0.99}

// Summarize measures the period of in.
func Summarize(in Input) Summary {
	s := Summary{From: in.From, Until: in.Until, MinConfidence: in.Rules.MinConfidence}
	for i := range len(bands) - 1 {
		s.Bands = append(s.Bands, Band{Low: bands[i], High: bands[i+1]})
	}
	lines := map[string]*Line{}
	waits := map[string][]time.Duration{}
	flags := map[string]int{}
	var period []expensebot.Expense
	for _, e := range in.Expenses {
		if !InPeriod(e, in.From, in.Until) || !Routed(e) {
			continue
		}
		period = append(period, e)
		l := lines[e.Category]
		if l == nil {
			l = &Line{Category: e.Category}
			lines[e.Category] = l
		}
		for _, l := range []*Line{l, &s.All} {
			count(l, e)
		}
		if byPerson(e) {
			w := e.DecidedAt.Sub(e.CreatedAt)
			waits[e.Category] = append(waits[e.Category], w)
			waits[""] = append(waits[""], w)
			if advisedApprove(e) {
				b := &s.Bands[band(e.Assessment.Confidence)]
				b.Advised++
				if approvedByPeople(e) {
					b.Approved++
				}
			}
		}
		for _, f := range expensebot.FlagsOf(e) {
			flags[f]++
		}
	}
	for _, l := range lines {
		l.MedianDecision = median(waits[l.Category])
		s.Categories = append(s.Categories, *l)
	}
	slices.SortFunc(s.Categories, func(a, b Line) int { return cmp.Compare(a.Category, b.Category) })
	s.All.MedianDecision = median(waits[""])
	for f, n := range flags {
		s.Flags = append(s.Flags, FlagCount{Flag: f, Count: n})
	}
	slices.SortFunc(s.Flags, func(a, b FlagCount) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Flag, b.Flag)) })
	s.Thresholds = whatIf(NewReplayer(in.Expenses), period, in.Rules)
	for _, sc := range in.SpotChecks {
		s.SpotChecks.Drawn++
		switch sc.Status {
		case expensebot.SpotCheckConfirmed:
			s.SpotChecks.Confirmed++
		case expensebot.SpotCheckFlagged, expensebot.SpotCheckCleared, expensebot.SpotCheckUpheld:
			s.SpotChecks.Flagged++ // flagged, whether the flag was settled since or not
		}
	}
	return s
}

// count adds a routed expense to its line, in the column its status has.
func count(l *Line, e expensebot.Expense) {
	l.Routed++
	column := e.Status.Info().Column
	if column == expensebot.ColumnAutomatic || column == expensebot.ColumnPaid && byPolicy(e) {
		l.AutoApproved++
		return
	}
	l.ToPeople++
	switch column {
	case expensebot.ColumnApproved:
		l.Approved++
	case expensebot.ColumnRejected:
		l.Rejected++
	case expensebot.ColumnPending:
		l.Pending++
	case expensebot.ColumnNeedsInfo:
		l.NeedsInfo++
	case expensebot.ColumnWithdrawn:
		l.Withdrawn++
	case expensebot.ColumnExpired:
		l.Expired++
	case expensebot.ColumnPaid:
		l.Paid++
	case expensebot.ColumnAutomatic, expensebot.ColumnNotRouted:
		// Counted above, or never here: Summarize counts only routed expenses.
	}
	if byPerson(e) && advisedApprove(e) {
		l.AdvisedApprove++
		if approvedByPeople(e) {
			l.AgreedApprove++
		}
	}
}

// whatIf replays the period at each threshold.
func whatIf(rp *Replayer, period []expensebot.Expense, r policy.Rules) []Threshold {
	ts := slices.Clone(thresholds)
	if !slices.Contains(ts, r.MinConfidence) {
		ts = append(ts, r.MinConfidence)
	}
	slices.Sort(ts)
	out := make([]Threshold, len(ts))
	for i, t := range ts {
		out[i] = Threshold{MinConfidence: t, Current: t == r.MinConfidence}
		rt := r
		rt.MinConfidence = t
		for _, e := range period {
			if e.Assessment == nil {
				continue // the AI was off: no threshold changes a thing
			}
			auto := rp.Route(e, rt).AutoApprove
			was := byPolicy(e)
			switch {
			case auto && !was:
				out[i].NewlyAuto++
				if e.Status.Info().Column == expensebot.ColumnRejected {
					out[i].NewlyRejected++
				}
			case !auto && was:
				out[i].NoLongerAuto++
			}
			if auto {
				out[i].AutoApproved++
			}
		}
	}
	return out
}

// InPeriod reports whether e was submitted in [from, until); a zero bound is open.
func InPeriod(e expensebot.Expense, from, until time.Time) bool {
	return !e.CreatedAt.Before(from) && (until.IsZero() || e.CreatedAt.Before(until))
}

// Routed reports whether the policy has routed e: its status has a column in the report (it is
// out of submitted and assessing).
func Routed(e expensebot.Expense) bool {
	return e.Status.Routed()
}

// byPerson reports whether a reviewer decided e: approved (and perhaps paid since) or rejected by
// people.
func byPerson(e expensebot.Expense) bool {
	c := e.Status.Info().Column
	return (approvedByPeople(e) || c == expensebot.ColumnRejected) && !e.DecidedAt.IsZero()
}

// approvedByPeople reports whether people approved e: it is approved, or paid after people
// approved it.
func approvedByPeople(e expensebot.Expense) bool {
	c := e.Status.Info().Column
	return c == expensebot.ColumnApproved || c == expensebot.ColumnPaid && !byPolicy(e)
}

// byPolicy reports whether the policy approved e without a person: it is auto_approved, or paid
// after the policy approved it.
func byPolicy(e expensebot.Expense) bool {
	c := e.Status.Info().Column
	return c == expensebot.ColumnAutomatic || c == expensebot.ColumnPaid && e.DecidedBy == expensebot.ActorPolicy
}

func advisedApprove(e expensebot.Expense) bool {
	return e.Assessment.Usable() && e.Assessment.Decision == expensebot.AIApprove
}

func band(c float64) int {
	for i := len(bands) - 2; i > 0; i-- {
		if c >= bands[i] {
			return i
		}
	}
	return 0
}

// median of ds; for an even count, the mean of the two in the middle. 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	m := len(ds) / 2
	if len(ds)%2 == 1 {
		return ds[m]
	}
	return (ds[m-1] + ds[m]) / 2
}

// Span writes a duration as people read it: "45m", "3h12m", "2d4h".
func Span(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, minutes := d/(24*time.Hour), d%(24*time.Hour)/time.Hour, d%time.Hour/time.Minute
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh%02dm", hours, minutes)
	}
	return fmt.Sprintf("%dm", minutes)
}
