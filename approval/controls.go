package approval

import (
	"context"
	"crypto/rand"
	"encoding/binary"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
)

// history gathers what the finance controls weigh about e: the submitter's other expenses around
// it (policy.Span). Those not routed yet have no converted amount stored, so they are converted
// here as e is, and count toward a total like the rest.
func (s *Service) history(ctx context.Context, e expensebot.Expense) (policy.History, error) {
	from, to := policy.Span(e, s.cfg.Rules)
	list, err := s.store.Related(ctx, e.SubmitterID, e.ID, from, to)
	if err != nil {
		return nil, err
	}
	for i, o := range list {
		if o.HomeAmount.Currency == "" {
			list[i].HomeAmount, list[i].Rate = s.convert(o.Amount)
		}
	}
	return list, nil
}

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
