package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

type apiError struct {
	code     string
	messages []string // response_metadata.messages, as Slack gives for invalid_blocks
}

func errf(code string, msgs ...string) *apiError { return &apiError{code: code, messages: msgs} }

// params decodes a Web API request: slack-go sends most methods form-encoded (blocks and views as
// JSON strings inside the form) and some as JSON.
func params(r *http.Request) (map[string]any, string, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return nil, "", err
	}
	p := map[string]any{}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		if len(body) > 0 {
			if err := json.Unmarshal(body, &p); err != nil {
				return nil, token, err
			}
		}
	} else {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, token, err
		}
		for k := range r.URL.Query() {
			v.Set(k, r.URL.Query().Get(k))
		}
		for k := range v {
			p[k] = v.Get(k)
		}
		if t, ok := p["token"].(string); ok && token == "" {
			token = t
		}
		delete(p, "token")
	}
	for _, k := range []string{"blocks", "view", "attachments"} {
		if sv, ok := p[k].(string); ok && sv != "" {
			var decoded any
			if err := json.Unmarshal([]byte(sv), &decoded); err != nil {
				return nil, token, fmt.Errorf("%s is not JSON", k)
			}
			p[k] = decoded
		}
	}
	return p, token, nil
}

func str(p map[string]any, k string) string {
	switch v := p[k].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return strings.Trim(string(b), `"`)
	}
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	p, token, err := params(r)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		s.record(method, p, "invalid_form_data")
		json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	s.mu.Lock()
	if fs := s.failures[method]; len(fs) > 0 {
		f := fs[0]
		s.failures[method] = fs[1:]
		s.mu.Unlock()
		if f.status == http.StatusTooManyRequests {
			f.err = "ratelimited"
		}
		s.record(method, p, f.err)
		if f.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
			w.WriteHeader(f.status)
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "ratelimited"})
			return
		}
		if f.status >= 500 {
			w.WriteHeader(f.status)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": f.err})
		return
	}
	if method == "chat.postMessage" && s.overChannelLimit(s.resolveChannel(str(p, "channel"))) {
		s.mu.Unlock()
		s.record(method, p, "ratelimited")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "ratelimited"})
		return
	}
	scopes := strings.Join(s.scopes, ",")
	s.mu.Unlock()

	want := BotToken
	if method == "apps.connections.open" {
		want = AppToken
	} else if token == BotToken {
		// Slack lists a token's scopes on every answer to a call made with it.
		w.Header().Set("X-OAuth-Scopes", scopes)
	}
	var res map[string]any
	var aerr *apiError
	switch {
	case token == "":
		aerr = errf("not_authed")
	case token != want:
		aerr = errf("invalid_auth")
	default:
		res, aerr = s.call(method, p)
	}
	if aerr != nil {
		s.record(method, p, aerr.code)
		out := map[string]any{"ok": false, "error": aerr.code}
		if len(aerr.messages) > 0 {
			out["response_metadata"] = map[string]any{"messages": aerr.messages}
		}
		json.NewEncoder(w).Encode(out)
		return
	}
	s.record(method, p, "")
	if d := s.delay(method); d > 0 {
		time.Sleep(d) // the call has taken effect; only the answer is late
	}
	res["ok"] = true
	json.NewEncoder(w).Encode(res)
}

func (s *Server) record(method string, p map[string]any, errCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: method, Params: p, Error: errCode, At: time.Now()})
}

func (s *Server) call(method string, p map[string]any) (map[string]any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case "auth.test":
		return map[string]any{"url": s.URL, "team": "Fake Workspace", "user": "expensebot", "team_id": TeamID,
			"user_id": BotUser, "bot_id": "B0EXPENSE"}, nil
	case "apps.connections.open":
		if s.connectErr != "" {
			return nil, errf(s.connectErr)
		}
		ticket := s.newID("K")
		s.tickets[ticket] = true
		return map[string]any{"url": "ws" + strings.TrimPrefix(s.URL, "http") + "socket?ticket=" + ticket}, nil
	case "chat.postMessage":
		return s.postMessage(p)
	case "chat.update":
		return s.updateMessage(p)
	case "chat.postEphemeral":
		return s.postEphemeral(p)
	case "chat.getPermalink":
		ch, ts := str(p, "channel"), str(p, "message_ts")
		if s.findMessage(s.resolveChannel(ch), ts) == nil {
			return nil, errf("message_not_found")
		}
		return map[string]any{"channel": ch, "permalink": s.URL + "archives/" + ch + "/p" + strings.ReplaceAll(ts, ".", "")}, nil
	case "conversations.info":
		c := s.channels[s.resolveChannel(str(p, "channel"))]
		if c == nil || (c.Private && !c.Members[BotUser]) {
			return nil, errf("channel_not_found")
		}
		return map[string]any{"channel": map[string]any{"id": c.ID, "name": c.Name, "is_channel": true,
			"is_member": c.Members[BotUser], "is_archived": c.Archived, "is_private": c.Private}}, nil
	case "conversations.history", "conversations.replies":
		return s.history(method, p)
	case "conversations.open":
		users := strings.Split(str(p, "users"), ",")
		id := s.resolveChannel(users[0])
		if id == "" {
			return nil, errf("user_not_found")
		}
		return map[string]any{"channel": map[string]any{"id": id}}, nil
	case "views.open", "views.push":
		return s.openView(method, p)
	case "views.update":
		return s.updateView(p)
	case "views.publish":
		return s.publishView(p)
	case "users.info":
		u := s.users[str(p, "user")]
		if u == nil {
			return nil, errf("user_not_found")
		}
		return map[string]any{"user": userJSON(u)}, nil
	case "users.lookupByEmail":
		email := str(p, "email")
		for _, u := range s.users {
			// Slack matches the address without regard to case.
			if email != "" && strings.EqualFold(u.Email, email) {
				return map[string]any{"user": userJSON(u)}, nil
			}
		}
		return nil, errf("users_not_found")
	case "usergroups.users.list":
		members, ok := s.groups[str(p, "usergroup")]
		if !ok {
			return nil, errf("no_such_subteam")
		}
		return map[string]any{"users": members}, nil
	case "files.info":
		return s.fileInfo(str(p, "file"))
	case "reactions.add":
		m := s.findMessage(s.resolveChannel(str(p, "channel")), str(p, "timestamp"))
		switch name := str(p, "name"); {
		case m == nil:
			return nil, errf("message_not_found")
		case name == "":
			return nil, errf("invalid_name")
		case slices.Contains(m.Reactions, name):
			return nil, errf("already_reacted")
		default:
			m.Reactions = append(m.Reactions, name)
			s.changed()
		}
		return map[string]any{}, nil
	case "files.getUploadURLExternal":
		return s.getUploadURL(p)
	case "files.completeUploadExternal":
		return s.completeUpload(p)
	}
	return nil, errf("unknown_method")
}

// userJSON is a user object as users.info and users.lookupByEmail answer it.
func userJSON(u *User) map[string]any {
	return map[string]any{"id": u.ID, "name": u.Name, "real_name": u.RealName, "is_bot": u.IsBot, "deleted": u.Deleted,
		"team_id": TeamID, "tz": "Europe/London",
		"profile": map[string]any{"real_name": u.RealName, "display_name": u.Name, "email": u.Email}}
}

func (s *Server) postMessage(p map[string]any) (map[string]any, *apiError) {
	ch := s.resolveChannel(str(p, "channel"))
	c := s.channels[ch]
	switch {
	case c == nil:
		return nil, errf("channel_not_found")
	case c.Archived:
		return nil, errf("is_archived")
	case !c.Members[BotUser]:
		return nil, errf("not_in_channel")
	}
	m, aerr := messageFrom(p)
	if aerr != nil {
		return nil, aerr
	}
	if thread := str(p, "thread_ts"); thread != "" {
		if s.findMessage(ch, thread) == nil {
			return nil, errf("thread_not_found")
		}
		m.ThreadTS = thread
	}
	m.Channel, m.TS, m.User = ch, s.newTS(), BotUser
	c.Messages = append(c.Messages, m)
	s.posted++
	s.changed()
	return map[string]any{"channel": ch, "ts": m.TS, "message": map[string]any{"text": m.Text, "ts": m.TS}}, nil
}

func (s *Server) updateMessage(p map[string]any) (map[string]any, *apiError) {
	ch := s.resolveChannel(str(p, "channel"))
	old := s.findMessage(ch, str(p, "ts"))
	switch {
	case old == nil:
		return nil, errf("message_not_found")
	case old.User != BotUser:
		return nil, errf("cant_update_message")
	}
	m, aerr := messageFrom(p)
	if aerr != nil {
		return nil, aerr
	}
	old.Text, old.Blocks, old.Edited = m.Text, m.Blocks, true
	s.changed()
	return map[string]any{"channel": ch, "ts": old.TS, "text": old.Text}, nil
}

func (s *Server) postEphemeral(p map[string]any) (map[string]any, *apiError) {
	ch := s.resolveChannel(str(p, "channel"))
	c := s.channels[ch]
	user := str(p, "user")
	switch {
	case c == nil:
		return nil, errf("channel_not_found")
	case !c.Members[BotUser]:
		return nil, errf("not_in_channel")
	case !c.Members[user]:
		return nil, errf("user_not_in_channel")
	}
	m, aerr := messageFrom(p)
	if aerr != nil {
		return nil, aerr
	}
	m.Channel, m.TS, m.User, m.EphemeralTo = ch, s.newTS(), BotUser, user
	c.Messages = append(c.Messages, m)
	s.changed()
	return map[string]any{"message_ts": m.TS}, nil
}

// messageFrom validates text and blocks as chat.postMessage does.
func messageFrom(p map[string]any) (*Message, *apiError) {
	m := &Message{Text: str(p, "text")}
	if b, ok := p["blocks"]; ok && b != nil {
		list, ok := b.([]any)
		if !ok {
			return nil, errf("invalid_blocks_format")
		}
		if msgs := validateBlocks(list, maxMessageBlocks, "message"); len(msgs) > 0 {
			return nil, errf("invalid_blocks", msgs...)
		}
		m.Blocks, _ = json.Marshal(list)
	}
	if m.Text == "" && len(m.Blocks) == 0 {
		return nil, errf("no_text")
	}
	if md := str(p, "metadata"); md != "" {
		var v struct {
			EventType    string         `json:"event_type"`
			EventPayload map[string]any `json:"event_payload"`
		}
		if json.Unmarshal([]byte(md), &v) != nil || v.EventType == "" {
			return nil, errf("invalid_metadata_format")
		}
		m.Metadata = json.RawMessage(md)
	}
	if len(m.Text) > 40000 {
		return nil, errf("msg_too_long")
	}
	return m, nil
}

// history answers conversations.history (a channel's top-level messages, newest first) and
// conversations.replies (a thread, parent first); metadata only with include_all_metadata, as
// Slack does.
func (s *Server) history(method string, p map[string]any) (map[string]any, *apiError) {
	ch := s.resolveChannel(str(p, "channel"))
	c := s.channels[ch]
	switch {
	case c == nil:
		return nil, errf("channel_not_found")
	case !c.Members[BotUser]:
		return nil, errf("not_in_channel")
	}
	withMeta := str(p, "include_all_metadata") == "1" || str(p, "include_all_metadata") == "true"
	oldest, thread := str(p, "oldest"), str(p, "ts")
	limit := 100
	if n, err := strconv.Atoi(str(p, "limit")); err == nil && n > 0 {
		limit = min(n, 1000)
	}
	var out []any
	add := func(m *Message) {
		o := map[string]any{"type": "message", "ts": m.TS, "user": m.User, "text": m.Text}
		if m.ThreadTS != "" {
			o["thread_ts"] = m.ThreadTS
		}
		if withMeta && len(m.Metadata) > 0 {
			o["metadata"] = m.Metadata
		}
		out = append(out, o)
	}
	if method == "conversations.replies" {
		for _, m := range c.Messages {
			if (m.TS == thread || m.ThreadTS == thread) && m.EphemeralTo == "" && len(out) < limit {
				add(m)
			}
		}
		return map[string]any{"messages": out, "has_more": false}, nil
	}
	for i := len(c.Messages) - 1; i >= 0 && len(out) < limit; i-- {
		m := c.Messages[i]
		if m.ThreadTS == "" && m.EphemeralTo == "" && (oldest == "" || m.TS > oldest) {
			add(m)
		}
	}
	return map[string]any{"messages": out, "has_more": false}, nil
}

func (s *Server) openView(method string, p map[string]any) (map[string]any, *apiError) {
	tid := str(p, "trigger_id")
	t := s.triggers[tid]
	switch {
	case tid == "":
		return nil, errf("invalid_arguments", "[ERROR] missing trigger_id")
	case t == nil:
		return nil, errf("invalid_trigger_id")
	case t.used || time.Now().After(t.expires):
		return nil, errf("expired_trigger_id")
	}
	view, ok := p["view"].(map[string]any)
	if !ok {
		return nil, errf("invalid_arguments", "[ERROR] missing view")
	}
	if msgs := validateView(view, "modal"); len(msgs) > 0 {
		return nil, errf("invalid_arguments", msgs...)
	}
	stack := s.modals[t.user]
	if method == "views.push" {
		if len(stack) == 0 {
			return nil, errf("not_found")
		}
		if len(stack) >= 3 {
			return nil, errf("push_limit_reached")
		}
	} else {
		stack = nil
	}
	t.used = true
	v := s.storeView(t.user, view, "")
	if len(stack) > 0 {
		v.RootID = stack[0]
	} else {
		v.RootID = v.ID
	}
	s.modals[t.user] = append(stack, v.ID)
	s.changed()
	return map[string]any{"view": viewJSON(v)}, nil
}

func (s *Server) updateView(p map[string]any) (map[string]any, *apiError) {
	v := s.views[str(p, "view_id")]
	if v == nil {
		return nil, errf("not_found")
	}
	if h := str(p, "hash"); h != "" && h != v.Hash {
		return nil, errf("hash_conflict")
	}
	view, ok := p["view"].(map[string]any)
	if !ok {
		return nil, errf("invalid_arguments")
	}
	if msgs := validateView(view, v.Type); len(msgs) > 0 {
		return nil, errf("invalid_arguments", msgs...)
	}
	s.storeView(v.User, view, v.ID)
	s.changed()
	return map[string]any{"view": viewJSON(s.views[v.ID])}, nil
}

func (s *Server) publishView(p map[string]any) (map[string]any, *apiError) {
	user := str(p, "user_id")
	if s.users[user] == nil {
		return nil, errf("user_not_found")
	}
	view, ok := p["view"].(map[string]any)
	if !ok {
		return nil, errf("invalid_arguments")
	}
	if msgs := validateView(view, "home"); len(msgs) > 0 {
		return nil, errf("invalid_arguments", msgs...)
	}
	id := s.homes[user]
	if old := s.views[id]; old != nil {
		if h := str(p, "hash"); h != "" && h != old.Hash {
			return nil, errf("hash_conflict")
		}
	}
	v := s.storeView(user, view, id)
	s.homes[user] = v.ID
	s.changed()
	return map[string]any{"view": viewJSON(v)}, nil
}

// storeView saves a view under id (new when ""), with a fresh hash; s.mu is held.
func (s *Server) storeView(user string, view map[string]any, id string) *View {
	if id == "" {
		id = s.newID("V")
	}
	b, _ := json.Marshal(view)
	v := &View{ID: id, Type: str(view, "type"), User: user, CallbackID: str(view, "callback_id"),
		PrivateMetadata: str(view, "private_metadata"), Hash: s.newID("h"), JSON: b}
	if old := s.views[id]; old != nil {
		v.RootID = old.RootID
	}
	s.views[id] = v
	return v
}

func viewJSON(v *View) map[string]any {
	var m map[string]any
	json.Unmarshal(v.JSON, &m)
	m["id"], m["hash"], m["team_id"], m["app_id"], m["root_view_id"] = v.ID, v.Hash, TeamID, AppID, v.RootID
	m["state"] = map[string]any{"values": map[string]any{}}
	return m
}

// serveResponseURL takes the messages a bot posts to an interaction's response_url.
func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/response/")
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		http.Error(w, "invalid json", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	target, ok := s.responses[id]
	s.calls = append(s.calls, Call{Method: "response_url", Params: body, At: time.Now()})
	if !ok {
		http.Error(w, "expired_url", http.StatusNotFound)
		return
	}
	m, aerr := messageFrom(body)
	if aerr != nil {
		http.Error(w, aerr.code, http.StatusBadRequest)
		return
	}
	c := s.channels[target.channel]
	if c == nil {
		http.Error(w, "channel_not_found", http.StatusNotFound)
		return
	}
	if body["replace_original"] == true && target.messageTS != "" {
		if old := s.findMessage(target.channel, target.messageTS); old != nil {
			old.Text, old.Blocks, old.Edited = m.Text, m.Blocks, true
			s.changed()
			w.Write([]byte("ok"))
			return
		}
	}
	m.Channel, m.TS, m.User = target.channel, s.newTS(), BotUser
	if str(body, "response_type") != "in_channel" {
		m.EphemeralTo = target.user
	}
	c.Messages = append(c.Messages, m)
	s.changed()
	w.Write([]byte("ok"))
}
