package approval

import (
	"sync"
	"time"
)

// Slack limits most Web API methods per workspace by tier (Tier 3: about 50 calls a minute,
// Tier 4: about 100), allowing short bursts; beyond them it answers 429. The bot keeps its
// background calls within the tiers instead of finding the limit: a month-end burst of App Home
// refreshes or card updates is spread out, and a user's own request (opening the App Home, a
// click) still finds room.

// bucket is a token bucket: rate tokens a minute, up to burst at once. Safe for concurrent use.
type bucket struct {
	rate  float64 // tokens a minute
	burst float64

	mu     sync.Mutex
	tokens float64
	at     time.Time
}

func newBucket(perMinute, burst int) *bucket {
	return &bucket{rate: float64(perMinute), burst: float64(burst), tokens: float64(burst)}
}

// take spends a token and returns 0, or returns how long until one is due and spends nothing.
func (b *bucket) take(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.at.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.at).Minutes()*b.rate)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Minute))
}

// Tiers of the methods the workflow calls in the background (Slack's method reference).
const (
	updatesPerMinute   = 50  // chat.update: Tier 3
	publishesPerMinute = 100 // views.publish: Tier 4
	tierBurst          = 10
)
