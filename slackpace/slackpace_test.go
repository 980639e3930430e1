package slackpace

import (
	"testing"
	"time"

	"github.com/expensebot/expensebot"
)

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// TestConversationPace: a conversation takes a burst of three posts, then one a second; a long
// pause refills it up to the burst and no more. The clock is given, so nothing sleeps.
func TestConversationPace(t *testing.T) {
	p := New(time.Second)
	post := expensebot.Notice{Kind: expensebot.NoticeTellSubmitter}
	steps := []struct {
		after time.Duration // since t0
		want  time.Duration
	}{
		{0, 0}, {0, 0}, {0, 0}, // the burst
		{0, time.Second}, // empty: the next is a second away, and nothing is spent
		{500 * time.Millisecond, 500 * time.Millisecond}, // half refilled
		{time.Second, 0},           // one refilled
		{time.Second, time.Second}, //
		{10 * time.Second, 0},      // a long pause refills up to the burst, no more
		{10 * time.Second, 0},      //
		{10 * time.Second, 0},      //
		{10 * time.Second, time.Second},
	}
	for i, s := range steps {
		if got := p.Wait("C1", post, t0.Add(s.after)); got != s.want {
			t.Errorf("step %d at +%s: wait %s, want %s", i, s.after, got, s.want)
		}
	}
	if got := p.Wait("C2", post, t0); got != 0 {
		t.Errorf("another conversation waits %s, want 0: each has its own pace", got)
	}
}

// TestTierSpentLast: card updates share chat.update's tier across conversations; a post its
// conversation must wait for spends none of the tier.
func TestTierSpentLast(t *testing.T) {
	p := New(time.Second)
	update := expensebot.Notice{Kind: expensebot.NoticeUpdateReview}
	for i := range tierBurst {
		if got := p.Wait("C"+string(rune('a'+i)), update, t0); got != 0 {
			t.Fatalf("update %d waits %s within the tier's burst", i, got)
		}
	}
	if got := p.Wait("Cz", update, t0); got <= 0 {
		t.Fatalf("update beyond the tier's burst waits %s, want > 0", got)
	}
	// A conversation that must wait anyway does not spend the tier's next token.
	q := New(time.Second)
	for range convBurst {
		q.Wait("C1", update, t0)
	}
	if got := q.Wait("C1", update, t0); got != time.Second {
		t.Fatalf("fourth update to one conversation waits %s, want 1s", got)
	}
	spent := 0
	for i := range tierBurst {
		if q.Wait("D"+string(rune('a'+i)), update, t0) == 0 {
			spent++
		}
	}
	if want := tierBurst - convBurst; spent != want {
		t.Errorf("%d updates got through the tier after the held-back one, want %d", spent, want)
	}
}

// TestPause: a 429 for chat.postMessage pauses its conversation only; one for another method
// pauses that method everywhere.
func TestPause(t *testing.T) {
	p := New(-1) // no pacing: only the pauses
	post := expensebot.Notice{Kind: expensebot.NoticeTellSubmitter}
	update := expensebot.Notice{Kind: expensebot.NoticeUpdateReview}
	p.Pause("C1", "chat.postMessage", 3*time.Second, t0)
	p.Pause("C1", "chat.update", 5*time.Second, t0)
	tests := []struct {
		conv string
		n    expensebot.Notice
		at   time.Duration
		want time.Duration
	}{
		{"C1", post, time.Second, 2 * time.Second},
		{"C2", post, time.Second, 0},
		{"C2", update, time.Second, 4 * time.Second},
		{"C1", post, 3 * time.Second, 0},
		{"C2", update, 5 * time.Second, 0},
	}
	for _, tt := range tests {
		if got := p.Wait(tt.conv, tt.n, t0.Add(tt.at)); got != tt.want {
			t.Errorf("%s %s at +%s: wait %s, want %s", tt.conv, tt.n.Kind, tt.at, got, tt.want)
		}
	}
}

// TestPublish: App Home publishes take views.publish's burst, then wait their turn.
func TestPublish(t *testing.T) {
	p := New(0)
	for i := range tierBurst {
		if got := p.Publish(t0); got != 0 {
			t.Fatalf("publish %d waits %s within the burst", i, got)
		}
	}
	if got := p.Publish(t0); got != 600*time.Millisecond {
		t.Errorf("publish beyond the burst waits %s, want 600ms (100 a minute)", got)
	}
	if got := p.Publish(t0.Add(600 * time.Millisecond)); got != 0 {
		t.Errorf("publish once a token is due waits %s, want 0", got)
	}
}
