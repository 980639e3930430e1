// Package fakeslack is a Slack workspace in a process, for tests and the sandbox: the Web API
// methods expensebot uses and the Socket Mode WebSocket (hello, envelopes, acks, pings,
// disconnect), on 127.0.0.1. It keeps channels, threads, DMs, ephemeral messages, modals and App
// Home views; records every call; and refuses what Slack refuses: Block Kit over its limits,
// expired or reused trigger_ids, unknown channels, bad tokens. It imports nothing of the bot.
package fakeslack

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Tokens the fake accepts unless configured otherwise.
const (
	BotToken = "xoxb-fake-bot-token"
	AppToken = "xapp-fake-app-token"
	TeamID   = "T0FAKE"
	BotUser  = "UBOT"
	AppID    = "A0EXPENSE"
)

// User is a member of the workspace.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	RealName string `json:"real_name"`
	IsBot    bool   `json:"is_bot"`
	Email    string `json:"email,omitempty"` // for users.lookupByEmail
	Deleted  bool   `json:"deleted,omitempty"`
}

// Message is a message in a channel, a thread or a DM.
type Message struct {
	Channel  string          `json:"channel"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	User     string          `json:"user"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Edited   bool            `json:"edited,omitempty"`
	// Metadata is the message metadata the poster attached (event_type, event_payload).
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// Ephemeral messages are seen by one user only.
	EphemeralTo string `json:"ephemeral_to,omitempty"`
	// Files shared with the message (files.completeUploadExternal, or a person's upload in a DM).
	Files []FileRef `json:"files,omitempty"`
	// Reactions are the emoji names the bot reacted with (reactions.add).
	Reactions []string `json:"reactions,omitempty"`
}

// Channel is a public channel or a DM (ID starting with D).
type Channel struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Archived bool            `json:"archived,omitempty"`
	Private  bool            `json:"private,omitempty"`
	Members  map[string]bool `json:"-"`
	Messages []*Message      `json:"messages"`
}

// View is an open modal or a published App Home.
type View struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	User            string          `json:"user"`
	CallbackID      string          `json:"callback_id"`
	PrivateMetadata string          `json:"private_metadata"`
	Hash            string          `json:"hash"`
	JSON            json.RawMessage `json:"view"`
	RootID          string          `json:"root_view_id"`
}

// Call is one Web API call as the fake received it.
type Call struct {
	Method string
	Params map[string]any
	Error  string // the error the fake answered, "" for ok
	At     time.Time
}

type trigger struct {
	user    string
	expires time.Time
	used    bool
}

// Server is a running fake Slack.
type Server struct {
	unacked atomic.Int64 // envelopes written and not yet acked (Unacked)
	URL     string       // base URL, ending in /

	// TriggerTTL is how long a trigger_id may be used (Slack: about 3 seconds).
	TriggerTTL time.Duration
	// AckTimeout is how long an envelope waits for its ack (Slack: 3 seconds).
	AckTimeout time.Duration
	// PingInterval is how often each Socket Mode connection is pinged.
	PingInterval time.Duration

	http *http.Server
	ln   net.Listener

	mu           sync.Mutex
	users        map[string]*User
	groups       map[string][]string
	channels     map[string]*Channel
	views        map[string]*View
	homes        map[string]string   // user → home view id
	modals       map[string][]string // user → modal stack
	triggers     map[string]*trigger
	responses    map[string]responseTarget
	tickets      map[string]bool
	calls        []Call
	failures     map[string][]failure // method → queued failures
	conns        map[*conn]bool
	acks         map[string]chan Ack
	subs         map[chan struct{}]bool
	seq          int64
	pinned       int // Pin: the connection every envelope goes to; 0: any
	posted       int // messages posted, ephemerals aside
	lastTS       int64
	connectErr   string // apps.connections.open answers this error when set
	connects     int
	latency      map[string][2]time.Duration // method → answer delay range, after the call took effect
	channelLimit map[string]int              // channel → chat.postMessage per second
	channelSent  map[string][]time.Time      // channel → posts in the last second
	files        map[string]*File
	scopes       []string // the bot token's scopes, sent as X-OAuth-Scopes
}

type failure struct {
	status     int // 429 or 5xx; 0 for an ok:false error
	err        string
	retryAfter int
}

type responseTarget struct {
	user, channel, messageTS string
}

// New starts a fake workspace on 127.0.0.1 with the given users (the bot user is added).
func New(users ...User) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakeslack: listen: %w", err)
	}
	s := &Server{
		URL: "http://" + ln.Addr().String() + "/", ln: ln,
		TriggerTTL: 3 * time.Second, AckTimeout: 3 * time.Second, PingInterval: 10 * time.Second,
		users:  map[string]*User{BotUser: {ID: BotUser, Name: "expensebot", RealName: "Expense Bot", IsBot: true}},
		groups: map[string][]string{}, channels: map[string]*Channel{}, views: map[string]*View{},
		homes: map[string]string{}, modals: map[string][]string{}, triggers: map[string]*trigger{},
		responses: map[string]responseTarget{}, tickets: map[string]bool{}, failures: map[string][]failure{},
		conns: map[*conn]bool{}, acks: map[string]chan Ack{}, subs: map[chan struct{}]bool{}, files: map[string]*File{},
		scopes: append([]string(nil), Scopes...),
	}
	for _, u := range users {
		u := u
		s.users[u.ID] = &u
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("/socket", s.serveSocket)
	mux.HandleFunc("/response/", s.serveResponseURL)
	mux.HandleFunc("/files/", s.serveFile)
	mux.HandleFunc("/upload/", s.serveUpload)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go s.http.Serve(ln)
	return s, nil
}

// APIURL is the Web API base URL to give the bot (SLACK_API_URL).
func (s *Server) APIURL() string { return s.URL + "api/" }

// Close stops the server and drops every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	for c := range s.conns {
		c.ws.Close()
	}
	s.mu.Unlock()
	return s.http.Close()
}

// AddChannel creates a public channel with the given members (the bot is a member only if listed).
func (s *Server) AddChannel(id, name string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Channel{ID: id, Name: name, Members: map[string]bool{}}
	for _, m := range members {
		c.Members[m] = true
	}
	s.channels[id] = c
}

// Join adds user (BotUser for the bot, as /invite @expensebot does) to channel.
func (s *Server) Join(channel, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[channel]; c != nil {
		c.Members[user] = true
	}
}

// AddUser adds a member to the workspace.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = &u
}

// LimitChannel makes chat.postMessage to channel answer 429 (Retry-After: 1) beyond perSecond
// messages in any second, as Slack does for a busy channel ("about one message per second").
func (s *Server) LimitChannel(channel string, perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.channelLimit == nil {
		s.channelLimit = map[string]int{}
		s.channelSent = map[string][]time.Time{}
	}
	s.channelLimit[channel] = perSecond
}

// overChannelLimit reports whether one more post to channel now would exceed its limit, and
// counts the post when it would not; s.mu is held.
func (s *Server) overChannelLimit(channel string) bool {
	limit, ok := s.channelLimit[channel]
	if !ok {
		return false
	}
	now := time.Now()
	recent := s.channelSent[channel][:0]
	for _, t := range s.channelSent[channel] {
		if now.Sub(t) < time.Second {
			recent = append(recent, t)
		}
	}
	if len(recent) >= limit {
		s.channelSent[channel] = recent
		return true
	}
	s.channelSent[channel] = append(recent, now)
	return false
}

// Scopes are the bot token's scopes unless [Server.SetScopes] says otherwise: every scope the
// app's manifest asks for.
var Scopes = []string{"commands", "chat:write", "im:write", "usergroups:read", "files:read", "files:write",
	"channels:history", "groups:history", "im:history", "channels:read", "groups:read", "users:read", "users:read.email",
	"reactions:write"}

// SetScopes sets the scopes the bot token was granted, as the X-OAuth-Scopes header of every
// answer to a bot-token call lists them (as a reinstall that changed them would).
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = append([]string(nil), scopes...)
}

// Archive archives channel: posting to it fails with is_archived, and conversations.info says so.
func (s *Server) Archive(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[channel]; c != nil {
		c.Archived = true
	}
}

// AddUserGroup defines a user group (S…) and its members.
func (s *Server) AddUserGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = members
}

// FailNext makes the next n calls to method fail: status 429 answers ratelimited with Retry-After;
// status 0 answers ok:false with errCode.
func (s *Server) FailNext(method string, n, status int, errCode string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[method] = append(s.failures[method], failure{status: status, err: errCode, retryAfter: retryAfter})
	}
}

// SetLatency makes method answer between min and max after it took effect, as a busy Slack does:
// a chat.postMessage can have posted while the caller still waits for the answer. Zero min and
// max answer at once again.
func (s *Server) SetLatency(method string, min, max time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latency == nil {
		s.latency = map[string][2]time.Duration{}
	}
	s.latency[method] = [2]time.Duration{min, max}
}

func (s *Server) delay(method string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.latency[method]
	if l[1] <= l[0] {
		return l[0]
	}
	return l[0] + time.Duration(rand.Int64N(int64(l[1]-l[0])))
}

// FailConnections makes apps.connections.open answer errCode ("" to stop).
func (s *Server) FailConnections(errCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connectErr = errCode
}

// Calls returns the Web API calls so far, optionally only those to one method.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Users lists the workspace's people, bot excluded, by id.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []User
	for _, u := range s.users {
		if !u.IsBot {
			out = append(out, *u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Messages returns a copy of a channel's messages (for a user id, their DM with the bot), oldest
// first; ephemeral messages are included only for the user they were shown to.
func (s *Server) Messages(channel, viewer string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[s.resolveChannel(channel)]
	if c == nil {
		return nil
	}
	var out []Message
	for _, m := range c.Messages {
		if m.EphemeralTo == "" || m.EphemeralTo == viewer {
			out = append(out, *m)
		}
	}
	return out
}

// Message returns one message by channel and ts.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.findMessage(s.resolveChannel(channel), ts); m != nil {
		return *m, true
	}
	return Message{}, false
}

// Home returns the App Home view published for user, if any.
func (s *Server) Home(user string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[s.homes[user]]
	if !ok {
		return View{}, false
	}
	return *v, true
}

// Modal returns the top modal open for user, if any.
func (s *Server) Modal(user string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stack := s.modals[user]
	if len(stack) == 0 {
		return View{}, false
	}
	return *s.views[stack[len(stack)-1]], true
}

// CloseModals closes every modal user has open, as pressing Cancel does.
func (s *Server) CloseModals(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modals[user] = nil
	s.changed()
}

// Channels lists channel ids: public channels first, then DMs.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, c := range s.channels {
		out = append(out, Channel{ID: c.ID, Name: c.Name})
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].ID[0] == 'D') != (out[j].ID[0] == 'D') {
			return out[j].ID[0] == 'D'
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Subscribe returns a channel that receives a signal after each change to the workspace, and a
// function to stop.
func (s *Server) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs[ch] = true
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}
}

// changed signals subscribers; s.mu is held.
func (s *Server) changed() {
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// newID returns a fresh id with a prefix; s.mu is held.
func (s *Server) newID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%06d", prefix, s.seq)
}

// newTS returns a fresh, increasing message timestamp; s.mu is held.
func (s *Server) newTS() string {
	now := time.Now().UnixMicro()
	if now <= s.lastTS {
		now = s.lastTS + 1
	}
	s.lastTS = now
	return fmt.Sprintf("%d.%06d", now/1e6, now%1e6)
}

// resolveChannel maps a user id to their DM channel, creating it; s.mu is held.
func (s *Server) resolveChannel(id string) string {
	if strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W") {
		if _, ok := s.users[id]; !ok {
			return ""
		}
		dm := "D" + id
		if s.channels[dm] == nil {
			u := s.users[id]
			s.channels[dm] = &Channel{ID: dm, Name: "dm-" + u.Name, Members: map[string]bool{id: true, BotUser: true}}
		}
		return dm
	}
	return id
}

func (s *Server) findMessage(channel, ts string) *Message {
	c := s.channels[channel]
	if c == nil {
		return nil
	}
	for _, m := range c.Messages {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

// newTrigger issues a trigger_id for user; s.mu is held.
func (s *Server) newTrigger(user string) string {
	id := s.newID("TR") + "." + fmt.Sprint(time.Now().UnixNano()%1e6)
	s.triggers[id] = &trigger{user: user, expires: time.Now().Add(s.TriggerTTL)}
	return id
}

// Visible returns the text a person sees of a message: its blocks' texts, or its fallback text.
func (m Message) Visible() string { return visible(m.Text, m.Blocks) }

// Visible returns the texts of a view's blocks, title included.
func (v View) Visible() string { return visible("", v.JSON) }

func visible(fallback string, blocks json.RawMessage) string {
	if len(blocks) == 0 {
		return fallback
	}
	var parts []string
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			if t, ok := x["text"].(string); ok {
				parts = append(parts, t)
			}
			for k, v := range x {
				if k != "text" || !isString(v) {
					walk(v)
				}
			}
		case []any:
			for _, v := range x {
				walk(v)
			}
		}
	}
	var root any
	json.Unmarshal(blocks, &root)
	walk(root)
	return strings.Join(parts, "\n")
}

func isString(v any) bool { _, ok := v.(string); return ok }

// Parsed returns the texts of m that Slack parses for formatting, mentions and links: the
// fallback text and every mrkdwn text object. plain_text objects, which Slack shows as they are,
// are left out.
func (m Message) Parsed() []string {
	parts := []string{m.Text}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			if t, ok := x["text"].(string); ok && x["type"] == "mrkdwn" {
				parts = append(parts, t)
			}
			for _, v := range x {
				walk(v)
			}
		case []any:
			for _, v := range x {
				walk(v)
			}
		}
	}
	var root any
	json.Unmarshal(m.Blocks, &root)
	walk(root)
	return parts
}

// MessageCount counts the messages in a channel (for a user id, their DM with the bot) without
// copying them.
func (s *Server) MessageCount(channel string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[s.resolveChannel(channel)]; c != nil {
		return len(c.Messages)
	}
	return 0
}

// Posted is how many messages have been posted in all, in channels, threads and DMs: a cheap
// count for a benchmark that waits for thousands.
func (s *Server) Posted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posted
}

// NewTrigger issues a trigger_id for user, as a click or a command would.
func (s *Server) NewTrigger(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newTrigger(user)
}
