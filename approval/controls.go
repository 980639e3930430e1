package approval

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"slices"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
)

// history gathers what the finance controls weigh about e: the submitter's other expenses around
// it (policy.Span), and anyone's receipts read around it (see receipted). Those not routed yet
// have no converted amount stored, so they are converted here as e is, and count toward a total
// like the rest.
func (s *Service) history(ctx context.Context, e expensebot.Expense) (policy.History, error) {
	from, to := policy.Span(e, s.rules().settings.Rules)
	list, err := s.related.Related(ctx, e.SubmitterID, e.ID, from, to)
	if err != nil {
		return nil, err
	}
	list, err = s.receipted(ctx, e, list)
	if err != nil {
		return nil, err
	}
	return s.inHome(list), nil
}

// receipted adds to h, when a model read the facts of a receipt of e, the receipts read on
// anyone's expenses within the duplicate window (policy.DuplicateSpan): the submitter's own get
// theirs, and other people's are added, so that one bill claimed twice is found whoever claims it.
func (s *Service) receipted(ctx context.Context, e expensebot.Expense, h []expensebot.Expense) ([]expensebot.Expense, error) {
	if !policy.HasFacts(e) {
		return h, nil
	}
	from, to := policy.DuplicateSpan(e, s.rules().settings.Rules)
	others, err := s.store.Receipted(ctx, from, to)
	if err != nil {
		return nil, err
	}
	at := make(map[int64]int, len(h))
	for i, o := range h {
		at[o.ID] = i
	}
	for _, o := range others {
		switch i, ok := at[o.ID]; {
		case o.ID == e.ID:
		case ok:
			h[i].Receipts = o.Receipts
		default:
			h = append(h, o)
		}
	}
	return h, nil
}

// inHome converts, for the controls, the amounts of the expenses not routed yet (they have none
// converted and stored).
func (s *Service) inHome(list []expensebot.Expense) []expensebot.Expense {
	for i, o := range list {
		if o.HomeAmount.Currency == "" {
			list[i].HomeAmount, list[i].Rate = s.convert(o.Amount)
		}
	}
	return list
}

// histories is history for a group of expenses routed together, read with one query: each gets
// the submitter's other expenses within its own span, as history would have read them. When the
// query fails or its guard cut it short, each is read on its own.
func (s *Service) histories(ctx context.Context, es []expensebot.Expense) ([]policy.History, []error) {
	hs, errs := make([]policy.History, len(es)), make([]error, len(es))
	var from, to time.Time
	var submitters []string
	for i, e := range es {
		f, t := policy.Span(e, s.rules().settings.Rules)
		if i == 0 || f.Before(from) {
			from = f
		}
		if i == 0 || t.After(to) {
			to = t
		}
		if !slices.Contains(submitters, e.SubmitterID) {
			submitters = append(submitters, e.SubmitterID)
		}
	}
	all, complete, err := s.related.RelatedAll(ctx, submitters, from, to)
	for i, e := range es {
		switch {
		case err != nil, !complete:
			// Each read alone: a group read that failed fails closed only the expenses whose own
			// read fails too.
			hs[i], errs[i] = s.history(ctx, e)
		default:
			f, t := policy.Span(e, s.rules().settings.Rules)
			var h []expensebot.Expense
			for _, o := range all {
				if o.SubmitterID == e.SubmitterID && o.ID != e.ID && !o.IncurredOn.Before(f) && !o.IncurredOn.After(t) && len(h) < maxHistory {
					h = append(h, o)
				}
			}
			if h, errs[i] = s.receipted(ctx, e, h); errs[i] == nil {
				hs[i] = s.inHome(h)
			}
		}
	}
	return hs, errs
}

// maxHistory is as many of a submitter's other expenses as the store reads for one history.
const maxHistory = 500

// drawSpotCheck draws for one automatic approval: selected with probability SpotCheckRate. The
// draw is returned whether it selects or not, so that it is recorded either way; nil when spot
// checks are off.
func (s *Service) drawSpotCheck() *expensebot.SpotDraw {
	rate := s.cfg.SpotCheckRate
	if rate <= 0 {
		return nil
	}
	d := s.cfg.Draw()
	return &expensebot.SpotDraw{Rate: rate, Draw: d, Selected: d < rate}
}

// cryptoDraw is a uniform number in [0, 1) from crypto/rand: a submitter who knows the code
// still cannot predict which approvals will be checked.
func cryptoDraw() float64 {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand crashes the program rather than return weak bytes)
	return float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53)
}

// refreshRelated brings the other expenses on e's findings up to date before a card shows them:
// their status, and where their own cards are, to link to. One that cannot be read is shown as it
// was when the finding was made.
func (s *Service) refreshRelated(ctx context.Context, e expensebot.Expense) expensebot.Expense {
	if len(e.Findings) == 0 {
		return e
	}
	findings := make([]expensebot.Finding, len(e.Findings))
	for i, f := range e.Findings {
		findings[i] = expensebot.Finding{Flag: f.Flag}
		for _, r := range f.Related {
			if o, err := s.store.Expense(ctx, r.ID); err == nil {
				r = expensebot.RelatedOf(o)
			}
			findings[i].Related = append(findings[i].Related, r)
		}
	}
	e.Findings = findings
	return e
}
