package handlers

import (
	"context"
	"fmt"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/approval"
	"github.com/slack-go/slack"
)

// Person describes a Slack user (users.info, scope users:read): their full name, else their
// display name, and the display name Slack shows beside their messages.
func (m *Messenger) Person(ctx context.Context, id string) (expensebot.Person, error) {
	u, err := m.slack.GetUserInfoContext(ctx, id)
	if err != nil {
		return expensebot.Person{}, fmt.Errorf("users.info %s: %w", id, m.classify("users.info", err))
	}
	p := expensebot.Person{ID: id, Name: u.Profile.RealName, DisplayName: u.Profile.DisplayName}
	if p.Name == "" {
		p.Name = u.RealName
	}
	if p.DisplayName == "" {
		p.DisplayName = u.Name
	}
	if p.Name == "" {
		p.Name = p.DisplayName
	}
	return p, nil
}

// ReceiptFile describes a receipt (files.info, scope files:read): its permalink, for the
// accounting export. It does not download the file: the workflow hashed it when it checked the
// receipt, and the export shows that hash.
func (m *Messenger) ReceiptFile(ctx context.Context, id string) (expensebot.ReceiptFile, error) {
	f, _, _, err := m.slack.GetFileInfoContext(ctx, id, 0, 0)
	if err != nil {
		return expensebot.ReceiptFile{}, fmt.Errorf("files.info %s: %w", id, m.classify("files.info", err))
	}
	return expensebot.ReceiptFile{FileID: id, Permalink: f.Permalink}, nil
}

// PostSpotCheck posts the spot-check message of an automatic approval to channel.
func (m *Messenger) PostSpotCheck(ctx context.Context, e expensebot.Expense, sc expensebot.SpotCheck, channel string, n expensebot.Notice) (string, string, error) {
	return m.post(ctx, channel, "", n, partCard, spotCheckMessage(e, sc, m.receiptLinks(ctx, e)))
}

// UpdateSpotCheck redraws the spot-check message.
func (m *Messenger) UpdateSpotCheck(ctx context.Context, e expensebot.Expense, sc expensebot.SpotCheck) error {
	_, _, _, err := m.slack.UpdateMessageContext(ctx, sc.Channel, sc.MessageTS, spotCheckMessage(e, sc, m.receiptLinks(ctx, e)).options()...)
	return m.classify("chat.update", err)
}

// TellFinance replies in the spot check's thread with what was flagged.
func (m *Messenger) TellFinance(ctx context.Context, e expensebot.Expense, sc expensebot.SpotCheck, n expensebot.Notice, finance []string) error {
	if sc.MessageTS == "" {
		return &approval.PermanentError{Err: fmt.Errorf("spot check of expense %d has no message to reply to", e.ID)}
	}
	_, _, err := m.post(ctx, sc.Channel, sc.MessageTS, n, partThread, financeMessage(e, n, finance))
	return err
}

// cardLinks looks up the permalinks of the cards of the other expenses e's findings are about;
// one that cannot be looked up is shown without a link.
func (m *Messenger) cardLinks(ctx context.Context, e expensebot.Expense) map[int64]string {
	links := map[int64]string{}
	for _, f := range e.Findings {
		for _, r := range f.Related {
			if r.MessageTS == "" || links[r.ID] != "" {
				continue
			}
			u, err := m.slack.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: r.Channel, Ts: r.MessageTS})
			if err == nil && u != "" {
				links[r.ID] = u
			}
		}
	}
	return links
}
