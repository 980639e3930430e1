package fakeslack

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// This file is the people in the workspace: what a user does (type a command, click a button,
// submit a modal, open the App Home) becomes the payload Slack would send the app.

func (s *Server) userObj(user string) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[user]
	if u == nil {
		return nil, fmt.Errorf("fakeslack: no user %s", user)
	}
	return map[string]any{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": TeamID}, nil
}

// responseURL registers a response_url for an interaction; s.mu is held.
func (s *Server) responseURL(user, channel, messageTS string) string {
	id := s.newID("R")
	s.responses[id] = responseTarget{user: user, channel: channel, messageTS: messageTS}
	return s.URL + "response/" + id
}

// Command types a slash command, e.g. Command("U1", "C1", "/expense", "42 lunch"). An ack
// carrying a message is shown to the user as an ephemeral message, as Slack does.
func (s *Server) Command(user, channel, command, text string) (Ack, error) {
	s.mu.Lock()
	ch := s.resolveChannel(channel)
	c := s.channels[ch]
	if c == nil || s.users[user] == nil {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("fakeslack: no channel %s or user %s", channel, user)
	}
	c.Members[user] = true
	payload := map[string]any{
		"token": "verification-token", "team_id": TeamID, "team_domain": "fake", "channel_id": ch, "channel_name": c.Name,
		"user_id": user, "user_name": s.users[user].Name, "command": command, "text": text, "api_app_id": AppID,
		"is_enterprise_install": "false", "response_url": s.responseURL(user, ch, ""), "trigger_id": s.newTrigger(user),
	}
	s.mu.Unlock()
	ack, err := s.Send("slash_commands", payload, 0)
	if err != nil {
		return ack, err
	}
	if len(ack.Payload) > 0 && string(ack.Payload) != "null" && string(ack.Payload) != "{}" {
		var body map[string]any
		if json.Unmarshal(ack.Payload, &body) == nil {
			s.mu.Lock()
			if m, aerr := messageFrom(body); aerr == nil {
				m.Channel, m.TS, m.User = ch, s.newTS(), BotUser
				if str(body, "response_type") != "in_channel" {
					m.EphemeralTo = user
				}
				c.Messages = append(c.Messages, m)
				s.changed()
			}
			s.mu.Unlock()
		}
	}
	return ack, nil
}

// findAction finds the element with actionID in a list of blocks, returning it and its block id.
func findAction(blocksJSON json.RawMessage, actionID string) (map[string]any, string, bool) {
	var blocks []map[string]any
	json.Unmarshal(blocksJSON, &blocks)
	for _, b := range blocks {
		var els []any
		if e, ok := b["elements"].([]any); ok {
			els = e
		}
		if a, ok := b["accessory"]; ok {
			els = append(els, a)
		}
		for _, e := range els {
			if m, ok := e.(map[string]any); ok && m["action_id"] == actionID {
				bid, _ := b["block_id"].(string)
				return m, bid, true
			}
		}
	}
	return nil, "", false
}

func actionPayload(el map[string]any, blockID string) map[string]any {
	return map[string]any{"action_id": el["action_id"], "block_id": blockID, "text": el["text"], "value": el["value"],
		"type": el["type"], "style": el["style"], "action_ts": fmt.Sprintf("%d.%06d", time.Now().Unix(), time.Now().Nanosecond()/1000)}
}

// ClickMessageButton clicks the button with actionID on a message, as user. Only buttons the
// message really has can be clicked.
func (s *Server) ClickMessageButton(user, channel, ts, actionID string) (Ack, error) {
	return s.clickMessage(user, channel, ts, actionID, nil)
}

// ClickStaleButton clicks a button on a message as it was in an earlier copy, seen, as a Slack
// client that has not caught up shows it: after the message was updated without that button.
func (s *Server) ClickStaleButton(user string, seen Message, actionID string) (Ack, error) {
	return s.clickMessage(user, seen.Channel, seen.TS, actionID, seen.Blocks)
}

func (s *Server) clickMessage(user, channel, ts, actionID string, seenBlocks json.RawMessage) (Ack, error) {
	uo, err := s.userObj(user)
	if err != nil {
		return Ack{}, err
	}
	s.mu.Lock()
	ch := s.resolveChannel(channel)
	m := s.findMessage(ch, ts)
	if m == nil {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("fakeslack: no message %s in %s", ts, channel)
	}
	if seenBlocks != nil {
		seen := *m
		seen.Blocks = seenBlocks
		m = &seen
	}
	el, blockID, ok := findAction(m.Blocks, actionID)
	if !ok {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("fakeslack: message %s has no button %q", ts, actionID)
	}
	var blocks any
	json.Unmarshal(m.Blocks, &blocks)
	payload := map[string]any{
		"type": "block_actions", "user": uo, "api_app_id": AppID, "token": "verification-token",
		"container":  map[string]any{"type": "message", "message_ts": ts, "channel_id": ch, "is_ephemeral": m.EphemeralTo != ""},
		"trigger_id": s.newTrigger(user), "team": map[string]any{"id": TeamID, "domain": "fake"},
		"channel":      map[string]any{"id": ch, "name": s.channels[ch].Name},
		"message":      map[string]any{"type": "message", "user": m.User, "ts": ts, "text": m.Text, "blocks": blocks},
		"response_url": s.responseURL(user, ch, ts),
		"actions":      []any{actionPayload(el, blockID)},
	}
	s.mu.Unlock()
	return s.Send("interactive", payload, 0)
}

// ClickViewButton clicks the button with actionID in a view (App Home or a modal), as user.
func (s *Server) ClickViewButton(user, viewID, actionID string) (Ack, error) {
	uo, err := s.userObj(user)
	if err != nil {
		return Ack{}, err
	}
	s.mu.Lock()
	v := s.views[viewID]
	if v == nil || v.User != user {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("fakeslack: user %s has no view %s", user, viewID)
	}
	var view struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	json.Unmarshal(v.JSON, &view)
	el, blockID, ok := findAction(view.Blocks, actionID)
	if !ok {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("fakeslack: view %s has no button %q", viewID, actionID)
	}
	payload := map[string]any{
		"type": "block_actions", "user": uo, "api_app_id": AppID, "token": "verification-token",
		"container":  map[string]any{"type": "view", "view_id": viewID},
		"trigger_id": s.newTrigger(user), "team": map[string]any{"id": TeamID, "domain": "fake"},
		"view": viewJSON(v), "actions": []any{actionPayload(el, blockID)},
	}
	s.mu.Unlock()
	return s.Send("interactive", payload, 0)
}

// SubmitModal fills the top modal of user (inputs by action_id: text for plain_text_input, the
// option value for static_select, YYYY-MM-DD for datepicker, comma-separated file ids for
// file_input, comma-separated user ids for multi_users_select, a channel id for
// conversations_select) and submits it. It returns the field errors the app answered with, if any; without
// errors the modal closes, or is updated or pushed as the ack says.
func (s *Server) SubmitModal(user string, fill map[string]string) (map[string]string, Ack, error) {
	uo, err := s.userObj(user)
	if err != nil {
		return nil, Ack{}, err
	}
	s.mu.Lock()
	stack := s.modals[user]
	if len(stack) == 0 {
		s.mu.Unlock()
		return nil, Ack{}, fmt.Errorf("fakeslack: %s has no modal open", user)
	}
	v := s.views[stack[len(stack)-1]]
	view := viewJSON(v)
	view["state"] = map[string]any{"values": s.stateValues(v.JSON, fill)}
	hashBefore := v.Hash
	payload := map[string]any{
		"type": "view_submission", "user": uo, "api_app_id": AppID, "token": "verification-token",
		"team": map[string]any{"id": TeamID, "domain": "fake"}, "trigger_id": s.newTrigger(user),
		"view": view, "response_urls": []any{},
	}
	s.mu.Unlock()
	ack, err := s.Send("interactive", payload, 0)
	if err != nil {
		return nil, ack, err
	}
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           map[string]any    `json:"view"`
	}
	if len(ack.Payload) > 0 {
		json.Unmarshal(ack.Payload, &resp)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed()
	switch resp.ResponseAction {
	case "errors":
		return resp.Errors, ack, nil
	case "update":
		if msgs := validateView(resp.View, "modal"); len(msgs) > 0 {
			return nil, ack, fmt.Errorf("fakeslack: invalid update view: %s", strings.Join(msgs, "; "))
		}
		// Slack applies the ack before it reads any views.update the app sends after acking; the
		// fake reads the ack only now, so a views.update that came first is the newer view.
		if cur := s.views[v.ID]; cur == nil || cur.Hash == hashBefore {
			s.storeView(user, resp.View, v.ID)
		}
	case "push":
		nv := s.storeView(user, resp.View, "")
		s.modals[user] = append(s.modals[user], nv.ID)
	case "clear":
		s.modals[user] = nil
	default:
		if st := s.modals[user]; len(st) > 0 {
			s.modals[user] = st[:len(st)-1]
		}
	}
	return nil, ack, nil
}

// stateValues builds view.state.values for the inputs of a view from fill.
func (s *Server) stateValues(viewJSON json.RawMessage, fill map[string]string) map[string]any {
	var view struct {
		Blocks []map[string]any `json:"blocks"`
	}
	json.Unmarshal(viewJSON, &view)
	values := map[string]any{}
	for _, b := range view.Blocks {
		if b["type"] != "input" {
			continue
		}
		el, _ := b["element"].(map[string]any)
		bid, _ := b["block_id"].(string)
		aid, _ := el["action_id"].(string)
		typ, _ := el["type"].(string)
		val, given := fill[aid]
		st := map[string]any{"type": typ}
		switch typ {
		case "plain_text_input":
			if given {
				st["value"] = val
			} else if iv, ok := el["initial_value"]; ok {
				st["value"] = iv
			} else {
				st["value"] = nil
			}
		case "static_select":
			st["selected_option"] = nil
			if !given {
				if io, ok := el["initial_option"]; ok {
					st["selected_option"] = io
				}
			}
			opts, _ := el["options"].([]any)
			for _, o := range opts {
				if om, ok := o.(map[string]any); ok && om["value"] == val && given {
					st["selected_option"] = om
				}
			}
		case "datepicker":
			if given {
				st["selected_date"] = val
			} else {
				st["selected_date"] = el["initial_date"]
			}
		case "users_select":
			if given {
				st["selected_user"] = val
			} else {
				st["selected_user"] = el["initial_user"]
			}
		case "multi_users_select": // fill: comma-separated user ids
			users := []any{}
			if !given {
				if iu, ok := el["initial_users"].([]any); ok {
					users = iu
				}
			}
			for _, id := range strings.Split(val, ",") {
				if id = strings.TrimSpace(id); id != "" && given {
					users = append(users, id)
				}
			}
			st["selected_users"] = users
		case "conversations_select":
			if given {
				st["selected_conversation"] = val
			} else {
				st["selected_conversation"] = el["initial_conversation"]
			}
		case "file_input":
			var files []any
			for _, id := range strings.Split(val, ",") {
				if id = strings.TrimSpace(id); id != "" {
					name := "receipt-" + id + ".pdf"
					if f := s.files[id]; f != nil {
						name = f.Name
					}
					files = append(files, map[string]any{"id": id, "name": name})
				}
			}
			st["files"] = files
		}
		values[bid] = map[string]any{aid: st}
	}
	return values
}

// OpenHome opens the App Home tab as user: an app_home_opened event.
func (s *Server) OpenHome(user string) (Ack, error) {
	s.mu.Lock()
	if s.users[user] == nil {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("fakeslack: no user %s", user)
	}
	event := map[string]any{"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home",
		"event_ts": fmt.Sprintf("%d.000100", time.Now().Unix())}
	if v := s.views[s.homes[user]]; v != nil {
		event["view"] = viewJSON(v)
	}
	payload := map[string]any{"token": "verification-token", "team_id": TeamID, "api_app_id": AppID, "event": event,
		"type": "event_callback", "event_id": s.newID("Ev"), "event_time": time.Now().Unix()}
	s.mu.Unlock()
	return s.Send("events_api", payload, 0)
}
