package api

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/expensebot/expensebot"
)

// expenseView is an expense as the API shows it, in answers and in callbacks. Amounts are
// decimal strings plus integer minor units, never floats; statuses are the product's names.
type expenseView struct {
	ID                int64       `json:"id"`
	Status            string      `json:"status"`
	Final             bool        `json:"final"`
	Submitter         string      `json:"submitter"`
	SubmittedBy       string      `json:"submitted_by,omitempty"`
	Amount            string      `json:"amount"`
	Currency          string      `json:"currency"`
	AmountMinor       int64       `json:"amount_minor"`
	HomeAmount        *homeV      `json:"home_amount,omitempty"`
	Category          string      `json:"category"`
	Description       string      `json:"description"`
	IncurredOn        string      `json:"incurred_on"`
	ApprovalsRequired int         `json:"approvals_required"`
	RouteReasons      []string    `json:"route_reasons"`
	Approvals         []approvalV `json:"approvals"`
	DecidedBy         string      `json:"decided_by,omitempty"`
	DecidedFor        string      `json:"decided_for,omitempty"`
	DecidedAt         *time.Time  `json:"decided_at,omitempty"`
	Reason            string      `json:"reason,omitempty"`
	Question          *questionV  `json:"question,omitempty"`
	ResubmitOf        int64       `json:"resubmit_of,omitempty"`
	ResubmittedAs     int64       `json:"resubmitted_as,omitempty"`
	Comments          []commentV  `json:"comments,omitempty"`
	Payment           *paymentV   `json:"payment,omitempty"`
	CreatedAt         time.Time   `json:"created_at"`
	UpdatedAt         time.Time   `json:"updated_at"`
	Links             linksV      `json:"links"`
}

// homeV is the amount in the home currency, with the rate that converted it, once an expense in
// another currency was routed with a usable rate.
type homeV struct {
	Amount      string `json:"amount"`
	Currency    string `json:"currency"`
	AmountMinor int64  `json:"amount_minor"`
	Rate        string `json:"rate"` // an exact decimal, never a float
	RateSource  string `json:"rate_source"`
	RateDate    string `json:"rate_date"`
}

type approvalV struct {
	By  string    `json:"by"`
	For string    `json:"for,omitempty"` // the away reviewer a delegate approved for
	At  time.Time `json:"at"`
}

// questionV is a reviewer's question waiting for the submitter's answer (needs_info).
type questionV struct {
	By      string    `json:"by"`
	For     string    `json:"for,omitempty"`
	Text    string    `json:"text"`
	AskedAt time.Time `json:"asked_at"`
}

type commentV struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

type linksV struct {
	Self  string `json:"self"`
	Slack string `json:"slack,omitempty"` // the approvals card, once posted
}

func selfLink(id int64) string { return "/v1/expenses/" + strconv.FormatInt(id, 10) }

// view shows e. A full view adds the reviewers' comments and the link to the approvals card;
// they cost a query and (once per card) a Slack call, so lists leave them out.
func (s *Server) view(ctx context.Context, e expensebot.Expense, full bool) expenseView {
	v := expenseView{
		ID: e.ID, Status: string(e.Status), Final: e.Status.Final(), Submitter: e.SubmitterID, SubmittedBy: e.SubmittedBy,
		Amount: e.Amount.Major(), Currency: e.Amount.Currency, AmountMinor: e.Amount.Minor,
		Category: e.Category, Description: e.Description, IncurredOn: e.IncurredOn.Format(time.DateOnly),
		ApprovalsRequired: e.ApprovalsRequired, RouteReasons: e.ReviewReasons, Approvals: []approvalV{},
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, Links: linksV{Self: selfLink(e.ID)},
		ResubmitOf: e.ResubmitOf, ResubmittedAs: e.ResubmittedAs,
	}
	if e.Status.Info().Submitter.Has(expensebot.ActAnswer) {
		v.Question = &questionV{By: e.QuestionBy, For: e.QuestionFor, Text: e.Question, AskedAt: e.PausedAt}
	}
	if h := e.HomeAmount; h.Minor > 0 && h.Currency != "" && h.Currency != e.Amount.Currency {
		v.HomeAmount = &homeV{Amount: h.Major(), Currency: h.Currency, AmountMinor: h.Minor,
			Rate: e.Rate.Value, RateSource: e.Rate.Source, RateDate: e.Rate.Date.Format(time.DateOnly)}
	}
	if v.RouteReasons == nil {
		v.RouteReasons = []string{}
	}
	if e.FirstApprover != "" {
		v.Approvals = append(v.Approvals, approvalV{By: e.FirstApprover, For: e.FirstApproverFor, At: e.FirstApprovedAt})
	}
	if !e.DecidedAt.IsZero() {
		at := e.DecidedAt
		v.DecidedBy, v.DecidedFor, v.DecidedAt, v.Reason = e.DecidedBy, e.DecidedFor, &at, e.DecisionReason
		if e.Status == expensebot.StatusApproved || e.Status == expensebot.StatusPaid && e.DecidedBy != expensebot.ActorPolicy {
			v.Approvals = append(v.Approvals, approvalV{By: e.DecidedBy, For: e.DecidedFor, At: at})
		}
	}
	if !e.PaidAt.IsZero() {
		v.Payment = &paymentV{PaidAt: e.PaidAt, By: e.PaidBy, Reference: e.PaidReference, Batch: e.ExportBatch}
	}
	if !full {
		return v
	}
	if evs, err := s.store.Events(ctx, e.ID); err != nil {
		s.log.WarnContext(ctx, "API view: audit trail unreadable; comments left out", "expense_id", e.ID, "err", err)
	} else {
		for _, ev := range evs {
			if ev.Kind != expensebot.EventCommented {
				continue
			}
			var d struct {
				Comment string `json:"comment"`
			}
			if json.Unmarshal(ev.Detail, &d) == nil {
				v.Comments = append(v.Comments, commentV{By: ev.Actor, At: ev.At, Text: d.Comment})
			}
		}
	}
	if e.ReviewMessageTS != "" {
		if link, err := s.dir.permalink(ctx, e.ReviewChannel, e.ReviewMessageTS); err == nil {
			v.Links.Slack = link
		} else {
			s.log.DebugContext(ctx, "API view: no permalink", "expense_id", e.ID, "err", err)
		}
	}
	return v
}
