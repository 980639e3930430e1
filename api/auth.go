package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Secret is a token or key. It prints and logs as a redaction, so that a Config or a Client can
// be logged whole without leaking it.
type Secret string

func (Secret) String() string                 { return "REDACTED" }
func (Secret) LogValue() slog.Value           { return slog.StringValue("REDACTED") }
func (Secret) GoString() string               { return `"REDACTED"` }
func (s Secret) MarshalText() ([]byte, error) { return []byte("REDACTED"), nil }

// Role is something a client may do; a client holds a set of them (Role values or-ed together).
type Role uint8

// Roles, as named in EXPENSEBOT_API_TOKENS.
const (
	RoleSubmit  Role = 1 << iota // submit: POST /v1/expenses
	RoleRead                     // read: GET the expenses it submitted itself
	RoleReadAll                  // read-all: GET every expense (and whatever RoleRead allows)
	RolePay                      // pay: POST /v1/payouts, record that approved expenses were paid
)

// roleNames are the roles' names in EXPENSEBOT_API_TOKENS, in the order they are listed.
var roleNames = []struct {
	name string
	role Role
}{{"submit", RoleSubmit}, {"read", RoleRead}, {"read-all", RoleReadAll}, {"pay", RolePay}}

// String lists the roles in r by name, joined with "+" as in EXPENSEBOT_API_TOKENS ("none" for
// none).
func (r Role) String() string {
	var names []string
	for _, rn := range roleNames {
		if r&rn.role != 0 {
			names = append(names, rn.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "+")
}

// doing is what role allows, for a message: "may not <doing>".
func (r Role) doing() string {
	switch r {
	case RoleSubmit:
		return "submit expenses"
	case RoleRead:
		return "read expenses"
	case RoleReadAll:
		return "read every expense"
	case RolePay:
		return "record payouts"
	}
	return "do this (" + r.String() + ")"
}

// Client is a system allowed to call the API. Its name is its audit actor, api:<name>.
type Client struct {
	Name  string
	Token Secret
	// Roles is what the client may do; zero means submit and read, what a plain name=token
	// entry has always granted.
	Roles Role
	// ReadAll adds RoleReadAll: a name*=token entry, kept as it was for existing configurations.
	ReadAll bool
}

// roles returns what c may do, its defaults applied.
func (c Client) roles() Role {
	r := c.Roles
	if r == 0 {
		r = RoleSubmit | RoleRead
	}
	if c.ReadAll {
		r |= RoleReadAll
	}
	if r&RoleReadAll != 0 {
		r |= RoleRead // reading everything includes reading one's own
	}
	return r
}

// Can reports whether c holds role.
func (c Client) Can(role Role) bool { return c.roles()&role == role }

var clientName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,39}$`)

// MinTokenLength is the shortest token accepted: shorter ones can be guessed.
const MinTokenLength = 16

// ParseClients reads the entries of EXPENSEBOT_API_TOKENS. Each is one client:
//
//	name=token                submit and read (its own expenses)
//	name*=token               submit and read-all, as before roles were named
//	name:roles=token          exactly the roles listed, joined with "+": submit, read, read-all, pay
//	                          e.g. reports:read-all=…, importer:submit=…, desk:submit+read=…
//
// Roles are joined with "+" because the entries themselves are separated by commas. Names are
// lower-case letters, digits, '.', '_' and '-'; tokens are at least MinTokenLength characters.
// Its errors name the entry by position and name, never by its token.
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
		name, roleList, hasRoles := strings.Cut(name, ":")
		name = strings.TrimSpace(name)
		c := Client{Name: strings.TrimSuffix(name, "*"), Token: Secret(token), ReadAll: strings.HasSuffix(name, "*")}
		if hasRoles {
			roles, err := parseRoles(roleList)
			switch {
			case c.ReadAll:
				return nil, fmt.Errorf("entry %d: client %q has both * and roles; write %s:read-all+… instead of *", i+1, c.Name, c.Name)
			case err != nil:
				return nil, fmt.Errorf("entry %d (%s): %v", i+1, c.Name, err)
			}
			c.Roles, c.ReadAll = roles, roles&RoleReadAll != 0
		}
		switch {
		case !clientName.MatchString(c.Name):
			return nil, fmt.Errorf("entry %d: client name %q must be lower-case letters, digits, '.', '_' or '-' (at most 40), optionally followed by * for read-all or :roles", i+1, name)
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

// parseRoles reads "submit+read" into a set of roles; it must name at least one.
func parseRoles(list string) (Role, error) {
	var roles Role
	for _, word := range strings.Split(list, "+") {
		word = strings.TrimSpace(word)
		var role Role
		for _, rn := range roleNames {
			if rn.name == word {
				role = rn.role
			}
		}
		if role == 0 {
			return 0, fmt.Errorf("%q is not a role; the roles are submit, read, read-all and pay, joined with +", word)
		}
		roles |= role
	}
	return roles, nil
}

// clients authenticates requests and limits each client's rate, and how many of its requests
// wait at once: a long poll costs a database read every second, which the rate alone does not
// bound.
type clients struct {
	list     []*client
	maxWaits int
}

type client struct {
	Client
	actor string
	hash  [sha256.Size]byte
	lim   *rate.Limiter // the client's request rate: a token bucket of burst, refilled at rate a second

	mu    sync.Mutex
	waits int
}

func newClients(list []Client, perSecond float64, burst, maxWaits int) *clients {
	cs := &clients{maxWaits: maxWaits}
	for _, c := range list {
		cs.list = append(cs.list, &client{Client: c, actor: "api:" + c.Name, hash: sha256.Sum256([]byte(c.Token)),
			lim: rate.NewLimiter(rate.Limit(perSecond), burst)})
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

// take spends one request of c's rate, or says how long until one is available; a refused
// request spends nothing.
func (cs *clients) take(c *client, now time.Time) (ok bool, wait time.Duration) {
	r := c.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second // a burst below one: never, but never wait for nothing either
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
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
