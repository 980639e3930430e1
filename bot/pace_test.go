package bot_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/internal/fakeopenai"
)

// TestSlackOvertakesAPIBatch: a person's /expense is assessed before a batch the approval API
// queued earlier. The model holds its first calls until the batch and the person's expense are
// all queued; then the person's expense must be among the next calls, not behind the batch.
func TestSlackOvertakesAPIBatch(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		const batch = 120
		gate := make(chan struct{})
		answer := fakeopenai.Answer("approve", 0.99)
		h.ai.Reply(func(w http.ResponseWriter, r fakeopenai.Request) {
			<-gate
			time.Sleep(20 * time.Millisecond) // the model's latency
			answer(w, r)
		})
		defer func() {
			select {
			case <-gate:
			default:
				close(gate)
			}
		}()
		h.withAPI(func(c *api.Config) { c.Rate, c.Burst = 1000, batch }) // a card feed posts fast
		in := h.start()
		for i := range batch {
			body := fmt.Sprintf(`{"submitter_email": "alice@example.com", "amount": "%d.00", "currency": "USD", "description": "Card feed line %d", "category": "travel"}`, 10+i, i)
			if sub := in.call(t, "POST", "/v1/expenses", apiToken, body, "Idempotency-Key", fmt.Sprintf("feed-%d", i)); sub.status != http.StatusAccepted {
				t.Fatalf("submit %d = %d %s", i, sub.status, sub.raw)
			}
		}
		h.command(outsider, "12 Coffee with a customer #meals") // acked once committed and queued
		close(gate)

		e := h.latest(outsider, expensebot.StatusAutoApproved)
		if e.Assessment == nil || e.Assessment.Error != "" {
			t.Fatalf("the person's expense was not assessed: %+v", e.Assessment)
		}
		// Where its call came among the model's calls: the ones the workers held when the gate
		// opened (the harness runs 8), then it, give or take the few the workers took while it
		// was being queued after its ack. Behind the batch, it would be the last.
		order := -1
		var reqs []fakeopenai.Request
		within(t, time.Minute, "every expense assessed", func() bool {
			reqs = h.ai.Requests()
			return len(reqs) >= batch+1
		})
		for i, r := range reqs {
			if strings.Contains(r.Messages[len(r.Messages)-1].Content, "Coffee with a customer") {
				order = i
				break
			}
		}
		if order < 0 || order >= batch/2 {
			t.Errorf("the person's expense was call %d of %d: it waited behind the batch", order+1, len(reqs))
		}
		// Nothing of the batch is lost: every one is routed.
		within(t, time.Minute, "the whole batch routed", func() bool {
			list, _ := h.db.BySubmitter(t.Context(), emp, 0, batch+10)
			routed := 0
			for _, x := range list {
				if x.Status.Routed() {
					routed++
				}
			}
			return routed == batch
		})
	})
}

// TestThrottledDeadlineToldInWords: a provider that keeps answering 429 until the expense's
// deadline sends it to a person, and the submitter's DM and the card say in words that the AI
// service was too busy, rather than naming an error.
func TestThrottledDeadlineToldInWords(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.ai.Reply(fakeopenai.RateLimitedMS(200))
		// Submitted 11 minutes ago as the database and the workflow see it: the deadline (10
		// minutes from submission) has passed, and one call's time (2 s here) is left.
		h.clock.advance(-11 * time.Minute)
		h.start()
		h.command(emp, "42.50 Team lunch #meals")
		dm := h.dm(emp, "went to a reviewer")
		if !strings.Contains(dm.Text, "the AI service was too busy to check it within") || !strings.Contains(dm.Text, "so a person decides") {
			t.Errorf("the DM does not say the AI service was too busy: %s", dm.Text)
		}
		e := h.latest(emp, expensebot.StatusPendingReview)
		h.approvalMessage(e.ID, "too busy to check it")
		if c := h.ai.Counts(); c.Requests < 2 {
			t.Errorf("%d calls to the model: the 429 was not retried", c.Requests)
		}
	})
}

// within waits for cond up to limit: a batch takes longer than one expense, more so under -race.
func within(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
