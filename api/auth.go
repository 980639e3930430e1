package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Secret is a token or key. It prints and logs as a redaction, so that a Config or a Client can
// be logged whole without leaking it.
type Secret string

func (Secret) String() string                 { return "REDACTED" }
func (Secret) LogValue() slog.Value           { return slog.StringValue("REDACTED") }
func (Secret) GoString() string               { return `"REDACTED"` }
func (s Secret) MarshalText() ([]byte, error) { return []byte("REDACTED"), nil }

// Client is a system allowed to call the API. Its name is its audit actor, api:<name>.
type Client struct {
	Name    string
	Token   Secret
	ReadAll bool // may read every expense, not only those it submitted
}

var clientName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,39}$`)

// MinTokenLength is the shortest token accepted: shorter ones can be guessed.
const MinTokenLength = 16

// ParseClients reads the entries of EXPENSEBOT_API_TOKENS: name=token, or name*=token for a
// client that may read every expense. Names are lower-case letters, digits, '.', '_' and '-';
// tokens are at least MinTokenLength characters. Its errors name the entry by position and name,
// never by its token.
func ParseClients(entries []string) ([]Client, error) {
	var out []Client
	names, tokens := map[string]bool{}, map[string]bool{}
	for i, entry := range entries {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		name, token, ok := strings.Cut(strings.TrimSpace(entry), "=")
		if !ok {
			return nil, fmt.Errorf("entry %d is not name=token", i+1)
		}
		name, token = strings.TrimSpace(name), strings.TrimSpace(token)
		c := Client{Name: strings.TrimSuffix(name, "*"), Token: Secret(token), ReadAll: strings.HasSuffix(name, "*")}
		switch {
		case !clientName.MatchString(c.Name):
			return nil, fmt.Errorf("entry %d: client name %q must be lower-case letters, digits, '.', '_' or '-' (at most 40), optionally followed by * for read-all", i+1, name)
		case names[c.Name]:
			return nil, fmt.Errorf("entry %d: client %q is listed twice", i+1, c.Name)
		case len(token) < MinTokenLength:
			return nil, fmt.Errorf("entry %d (%s): the token is shorter than %d characters", i+1, c.Name, MinTokenLength)
		case tokens[token]:
			return nil, fmt.Errorf("entry %d (%s): the token is also another client's", i+1, c.Name)
		}
		names[c.Name], tokens[token] = true, true
		out = append(out, c)
	}
	return out, nil
}

// clients authenticates requests and limits each client's rate, and how many of its requests
// wait at once: a long poll costs a database read every second, which the rate alone does not
// bound.
type clients struct {
	list     []*client
	rate     float64
	burst    float64
	maxWaits int
}

type client struct {
	Client
	actor string
	hash  [sha256.Size]byte

	mu     sync.Mutex
	tokens float64
	last   time.Time
	waits  int
}

func newClients(list []Client, rate float64, burst, maxWaits int) *clients {
	cs := &clients{rate: rate, burst: float64(burst), maxWaits: maxWaits}
	for _, c := range list {
		cs.list = append(cs.list, &client{Client: c, actor: "api:" + c.Name, hash: sha256.Sum256([]byte(c.Token)), tokens: float64(burst)})
	}
	return cs
}

// find returns the client whose token was presented, or nil. It compares fixed-length hashes in
// constant time and looks at every client, so neither the time taken nor its variation tells how
// much of a token was right, or whose.
func (cs *clients) find(presented string) *client {
	h := sha256.Sum256([]byte(presented))
	var found *client
	for _, c := range cs.list {
		if subtle.ConstantTimeCompare(h[:], c.hash[:]) == 1 {
			found = c
		}
	}
	return found
}

// take spends one request of c's token bucket, or says how long until one is available.
func (cs *clients) take(c *client, now time.Time) (ok bool, wait time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.last.IsZero() {
		c.tokens = math.Min(cs.burst, c.tokens+now.Sub(c.last).Seconds()*cs.rate)
	}
	c.last = now
	if c.tokens >= 1 {
		c.tokens--
		return true, 0
	}
	return false, time.Duration((1 - c.tokens) / cs.rate * float64(time.Second))
}

// startWait admits one more waiting request of c, or says it has as many as it may.
func (cs *clients) startWait(c *client) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waits >= cs.maxWaits {
		return false
	}
	c.waits++
	return true
}

func (cs *clients) endWait(c *client) {
	c.mu.Lock()
	c.waits--
	c.mu.Unlock()
}
