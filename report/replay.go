package report

import (
	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
)

// Replayer routes stored expenses again, each with its stored assessment and the history the
// controls weigh, under rules that may differ from those that routed it.
//
// The history of an expense is its submitter's expenses submitted before it (lower ids) within
// policy.Span: live routing saw those, and usually nothing later. One submitted in the same
// instant may have been seen live and is not here, and the other way round; a replay is an
// estimate of what the rules do, not a record.
type Replayer struct {
	bySubmitter map[string][]expensebot.Expense
}

// NewReplayer indexes all, the expenses a replay may use as history.
func NewReplayer(all []expensebot.Expense) *Replayer {
	rp := &Replayer{bySubmitter: map[string][]expensebot.Expense{}}
	for _, e := range all {
		rp.bySubmitter[e.SubmitterID] = append(rp.bySubmitter[e.SubmitterID], e)
	}
	return rp
}

// History is what the controls weigh for e in a replay under r.
func (rp *Replayer) History(e expensebot.Expense, r policy.Rules) policy.History {
	from, to := policy.Span(e, r)
	var h policy.History
	for _, o := range rp.bySubmitter[e.SubmitterID] {
		if o.ID < e.ID && !o.IncurredOn.Before(from) && !o.IncurredOn.After(to) {
			h = append(h, o)
		}
	}
	return h
}

// Route is e's route under r, replayed with its stored assessment and converted amount.
func (rp *Replayer) Route(e expensebot.Expense, r policy.Rules) expensebot.Route {
	return policy.Decide(e, e.Assessment, rp.History(e, r), r)
}
