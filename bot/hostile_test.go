package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeslack"
)

// hostileFrames returns 200 WebSocket frames a broken or hostile peer might send: not JSON,
// unknown envelope types, payloads of the wrong shape, absurd values, unknown or forged ids.
func hostileFrames() [][]byte {
	var frames [][]byte
	raw := func(s string) { frames = append(frames, []byte(s)) }
	n := 0
	env := func(typ string, payload any) {
		n++
		b, _ := json.Marshal(map[string]any{"envelope_id": fmt.Sprintf("hostile-%d", n), "type": typ, "payload": payload, "accepts_response_payload": true})
		frames = append(frames, b)
	}
	for _, s := range []string{"", "garbage", "{", "[]", "null", "123", `"str"`, "{}", `{"type":42}`, `{"envelope_id":7}`,
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000), "\xff\xfe\xfd", `{"type":"hello"}`, `{"type":"unknown_type","envelope_id":"x-1"}`} {
		raw(s)
	}
	texts := []string{"", " ", "-5 lunch", "0 nothing", "1e309 big", "NaN nan", "Inf inf", "99999999999999999999 too much",
		"12.345 decimals", "42", "abc def", "\x00\x01\x02", strings.Repeat("9", 5000), "１２ fullwidth", "12.5.5 dots",
		"$ lunch", "1,2,3,4 groups", "12 " + strings.Repeat("long ", 400), "history extra words", "<!channel>", "help me", "--help"}
	for _, text := range texts {
		env("slash_commands", map[string]any{"command": "/expense", "text": text, "user_id": emp, "channel_id": general, "trigger_id": "TR-hostile-" + text})
	}
	for _, p := range []any{"a string", 12, []any{1, 2}, nil, map[string]any{"text": 12}, map[string]any{"user_id": []any{}}} {
		env("slash_commands", p)
		env("interactive", p)
		env("events_api", p)
	}
	actionIDs := []string{"", "approve", "approve:", "approve:abc", "approve:-1", "approve:0", "approve:999999", "reject:999999",
		"comment:999999", "approve:1:2", "unknown:1", "new_expense", strings.Repeat("x", 10000), "approve:9223372036854775807", "approve:99999999999999999999"}
	for _, id := range actionIDs {
		for _, user := range []string{"", outsider, "UNOBODY"} {
			env("interactive", map[string]any{"type": "block_actions", "user": map[string]any{"id": user}, "trigger_id": "TR-x",
				"actions": []any{map[string]any{"action_id": id, "value": id, "type": "button"}}, "container": map[string]any{"type": "message"}})
		}
	}
	env("interactive", map[string]any{"type": "block_actions", "user": map[string]any{"id": rev1}, "actions": []any{}})
	env("interactive", map[string]any{"type": "block_actions", "user": map[string]any{"id": rev1}, "actions": "not a list"})
	callbacks := []string{"", "expense_submit", "reject_submit", "comment_submit", "unknown_modal"}
	states := []any{nil, "string", map[string]any{"values": nil}, map[string]any{"values": map[string]any{"amount": "x"}},
		map[string]any{"values": map[string]any{"amount": map[string]any{"amount": map[string]any{"type": "plain_text_input", "value": "1e5"}}}},
		map[string]any{"values": map[string]any{"reason": map[string]any{"reason": map[string]any{"value": strings.Repeat("r", 5000)}}}},
		map[string]any{"values": map[string]any{"date": map[string]any{"date": map[string]any{"selected_date": "2999-99-99"}}}}}
	metas := []string{"", "{", `{"expense_id":"x"}`, `{"expense_id":999999}`, `{"expense_id":-1}`}
	for i, cb := range callbacks {
		for j, st := range states {
			env("interactive", map[string]any{"type": "view_submission", "user": map[string]any{"id": outsider},
				"view": map[string]any{"id": fmt.Sprintf("VH%d%d", i, j), "callback_id": cb, "state": st, "private_metadata": metas[(i+j)%len(metas)]}})
		}
	}
	for _, ev := range []any{nil, "x", map[string]any{"type": "app_home_opened"}, map[string]any{"type": "app_home_opened", "user": "UNOBODY", "tab": "home"},
		map[string]any{"type": "message", "text": "hi"}, map[string]any{"type": "app_home_opened", "user": emp, "tab": "messages"}} {
		env("events_api", map[string]any{"type": "event_callback", "event_id": fmt.Sprintf("EvH%d", n), "event": ev})
	}
	env("interactive", map[string]any{"type": "shortcut", "callback_id": "whatever"})
	env("interactive", map[string]any{"type": "view_closed", "view": map[string]any{"id": "V1"}})
	for len(frames) < 200 {
		env("interactive", map[string]any{"type": "block_actions", "user": map[string]any{"id": outsider}, "trigger_id": "TR-pad",
			"actions": []any{map[string]any{"action_id": fmt.Sprintf("approve:%d", len(frames)), "type": "button"}}})
	}
	return frames[:200]
}

func TestHostilePayloads(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		in := h.start()
		frames := hostileFrames()
		var acks []<-chan fakeslack.Ack
		for _, f := range frames {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
			}
			json.Unmarshal(f, &env)
			ch, err := h.slack.SendRaw(f, env.EnvelopeID)
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if strings.HasPrefix(env.EnvelopeID, "hostile-") {
				acks = append(acks, ch)
			}
		}
		for i, ch := range acks {
			select {
			case <-ch:
			case <-time.After(3 * time.Second):
				t.Fatalf("hostile envelope %d was not acked within Slack's 3 seconds", i)
			}
		}
		select {
		case err := <-in.done:
			t.Fatalf("the bot stopped: %v", err)
		default:
		}
		if list, _ := h.db.BySubmitter(context.Background(), emp, 0, 10); len(list) != 0 {
			t.Errorf("hostile payloads created %d expenses: %+v", len(list), list)
		}
		// After all that, a normal person still gets served.
		h.command(emp, "42.50 Team lunch")
		h.dm(emp, "(42.50 USD, Team lunch) was approved automatically")
		if strings.Contains(h.logs.String(), "sk-test-key") || strings.Contains(h.logs.String(), fakeslack.BotToken) || strings.Contains(h.logs.String(), fakeslack.AppToken) {
			t.Errorf("a secret reached the log")
		}
	})
}
