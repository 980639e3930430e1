package handlers

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// TestFilesInDMOnlyPeoplesFiles: only files a person posts in the bot's DM start drafts; the
// bot's own messages, other bots', text, and messages elsewhere are ignored, before any I/O.
func TestFilesInDMOnlyPeoplesFiles(t *testing.T) {
	a := New(nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	files := &slack.Msg{Files: []slack.File{{ID: "F1"}}}
	for _, tc := range []struct {
		name string
		ev   slackevents.MessageEvent
		want bool
	}{
		{"a person's file in the DM", slackevents.MessageEvent{ChannelType: "im", SubType: "file_share", User: "U1", Channel: "D1", Message: files}, true},
		{"the bot's own", slackevents.MessageEvent{ChannelType: "im", SubType: "file_share", User: "UBOT", BotID: "B1", Channel: "D1", Message: files}, false},
		{"another bot's", slackevents.MessageEvent{ChannelType: "im", SubType: "file_share", User: "U2", Channel: "D1", Message: &slack.Msg{BotID: "B2", Files: files.Files}}, false},
		{"text only", slackevents.MessageEvent{ChannelType: "im", User: "U1", Channel: "D1", Message: &slack.Msg{Text: "hi"}}, false},
		{"a file in a channel", slackevents.MessageEvent{ChannelType: "channel", SubType: "file_share", User: "U1", Channel: "C1", Message: files}, false},
		{"no files", slackevents.MessageEvent{ChannelType: "im", SubType: "file_share", User: "U1", Channel: "D1", Message: &slack.Msg{}}, false},
	} {
		if got := a.filesInDM(&tc.ev, "T1") != nil; got != tc.want {
			t.Errorf("%s: work %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestDraftMessageIsInert: what was read on a receipt is shown, never obeyed: it cannot mention,
// link or format, and the draft's buttons carry its id.
func TestDraftMessageIsInert(t *testing.T) {
	d := expensebot.Draft{ID: 7, Merchant: "<!channel> *Approved* by <@UBOSS>", Amount: expensebot.Money{Minor: 1840, Currency: "USD"},
		Category: "transport", Description: "Receipt from <!channel>", IncurredOn: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Receipt: expensebot.Receipt{Name: "<script>.png"}}
	for _, m := range []Message{draftMessage(d), draftEnded(d, "Discarded.")} {
		b, _ := json.Marshal(m)
		s := string(b)
		for _, bad := range []string{"<!channel>", "<@UBOSS>", "*Approved*", "<script>"} {
			if strings.Contains(s, bad) || strings.Contains(m.Text, bad) {
				t.Errorf("%q shown as markup in %s", bad, s)
			}
		}
	}
	b, _ := json.Marshal(draftMessage(d))
	for _, id := range []string{"draft_submit:7", "draft_edit:7", "draft_discard:7"} {
		if !strings.Contains(string(b), id) {
			t.Errorf("no %s button", id)
		}
	}
}
