// Package slackpace keeps the bot's background calls within Slack's rate limits. Slack allows
// about one message a second per conversation (a short burst tolerated) and limits most Web API
// methods per workspace by tier (Tier 3: about 50 calls a minute, Tier 4: about 100), answering
// 429 beyond them. The bot stays within them instead of finding the limit: a month-end burst of
// cards, card updates or App Home refreshes is spread out, and a user's own request (opening the
// App Home, a click) still finds room. It also remembers the pauses Slack asked for with a 429's
// Retry-After, for the conversation or for the whole method.
package slackpace

import (
	"sync"
	"time"

	"github.com/expensebot/expensebot"
	"golang.org/x/time/rate"
)

const (
	// Interval is Slack's pace of posts to one conversation: about one message a second.
	Interval = time.Second
	// convBurst is how many posts a conversation may take at once before pacing.
	convBurst = 3

	// Tiers of the methods the bot calls in the background (Slack's method reference).
	updatesPerMinute   = 50  // chat.update: Tier 3
	publishesPerMinute = 100 // views.publish: Tier 4
	tierBurst          = 10

	// keepConvs is how many conversations' pacing is remembered before the rested ones are
	// forgotten (a rested conversation's limiter is full, as a new one's is).
	keepConvs = 4096
)

// Pacer paces posts per conversation and calls per method. Safe for concurrent use.
type Pacer struct {
	interval time.Duration // per conversation; 0: only tiers of App Home publishes and pauses

	mu        sync.Mutex
	convs     map[string]*rate.Limiter
	paused    map[string]time.Time     // conversation → paused until (a 429 for chat.postMessage)
	gates     map[string]time.Time     // method → paused until (a 429 for the whole method)
	tiers     map[string]*rate.Limiter // method → its tier, for methods limited per workspace
	publishes *rate.Limiter            // views.publish
}

// New returns a Pacer that spaces posts to one conversation by interval (0: [Interval]; negative:
// not at all, nor by the methods' tiers: only Slack's pauses and App Home publishes are paced).
func New(interval time.Duration) *Pacer {
	switch {
	case interval == 0:
		interval = Interval
	case interval < 0:
		interval = 0
	}
	return &Pacer{interval: interval, convs: map[string]*rate.Limiter{}, paused: map[string]time.Time{}, gates: map[string]time.Time{},
		tiers:     map[string]*rate.Limiter{"chat.update": perMinute(updatesPerMinute, tierBurst)},
		publishes: perMinute(publishesPerMinute, tierBurst)}
}

func perMinute(n, burst int) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(float64(n)/60), burst)
}

// MethodOf is the Web API method a notice mostly calls, for method-wide pauses and tiers.
func MethodOf(n expensebot.Notice) string {
	switch n.Kind {
	case expensebot.NoticeUpdateReview:
		return "chat.update"
	case expensebot.NoticeCallback:
		return ""
	}
	return "chat.postMessage"
}

// Wait returns 0 and spends n's slot in conversation (and in its method's tier), or returns how
// long n must wait and spends nothing.
func (p *Pacer) Wait(conversation string, n expensebot.Notice, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := p.paused[conversation]; until.After(now) {
		return until.Sub(now)
	}
	delete(p.paused, conversation)
	method := MethodOf(n)
	if until := p.gates[method]; until.After(now) {
		return until.Sub(now)
	}
	if p.interval <= 0 {
		return 0
	}
	conv := p.conv(conversation, now)
	r := conv.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return wait
	}
	// The method's tier is spent last: a post the conversation must wait for spends none of it.
	if tier := p.tiers[method]; tier != nil {
		tr := tier.ReserveN(now, 1)
		if wait := tr.DelayFrom(now); wait > 0 {
			tr.CancelAt(now)
			r.CancelAt(now)
			return wait
		}
	}
	return 0
}

// conv is conversation's limiter; p.mu is held.
func (p *Pacer) conv(conversation string, now time.Time) *rate.Limiter {
	l := p.convs[conversation]
	if l != nil {
		return l
	}
	if len(p.convs) >= keepConvs {
		for c, old := range p.convs {
			if old.TokensAt(now) >= convBurst {
				delete(p.convs, c)
			}
		}
	}
	l = rate.NewLimiter(rate.Every(p.interval), convBurst)
	p.convs[conversation] = l
	return l
}

// Pause holds back what Slack refused for d: the conversation, when the refused method was
// chat.postMessage (or none is named), else every call of the method.
func (p *Pacer) Pause(conversation, method string, d time.Duration, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if method == "" || method == "chat.postMessage" {
		p.paused[conversation] = now.Add(d)
		return
	}
	p.gates[method] = now.Add(d)
}

// Publish returns 0 and spends an App Home publish within views.publish's tier, or returns how
// long until one is due and spends nothing.
func (p *Pacer) Publish(now time.Time) time.Duration {
	r := p.publishes.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return wait
	}
	return 0
}
