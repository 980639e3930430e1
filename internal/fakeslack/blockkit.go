package fakeslack

import (
	"fmt"
	"unicode/utf8"
)

// Block Kit limits, as Slack documents them.
const (
	maxMessageBlocks = 50
	maxViewBlocks    = 100
)

func textOf(v any) (string, string) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", ""
	}
	t, _ := m["text"].(string)
	typ, _ := m["type"].(string)
	return t, typ
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// validateBlocks returns Slack-style messages for every broken rule, empty when the blocks are fine.
func validateBlocks(blocks []any, max int, surface string) []string {
	var msgs []string
	bad := func(i int, format string, args ...any) {
		msgs = append(msgs, fmt.Sprintf("[ERROR] "+format+" [json-pointer:/blocks/%d]", append(args, i)...))
	}
	if len(blocks) > max {
		msgs = append(msgs, fmt.Sprintf("[ERROR] no more than %d items allowed [json-pointer:/blocks]", max))
	}
	blockIDs, actionIDs := map[string]bool{}, map[string]bool{}
	for i, raw := range blocks {
		b, ok := raw.(map[string]any)
		if !ok {
			bad(i, "block must be an object")
			continue
		}
		if id, ok := b["block_id"].(string); ok {
			if len(id) > 255 {
				bad(i, "block_id must be at most 255 characters")
			}
			if blockIDs[id] {
				bad(i, "block_id %q is not unique", id)
			}
			blockIDs[id] = true
		}
		elementsOK := func(list []any, max int) {
			if len(list) > max {
				bad(i, "no more than %d elements allowed", max)
			}
			for _, e := range list {
				for _, m := range validateElement(e, surface, actionIDs) {
					bad(i, "%s", m)
				}
			}
		}
		switch typ, _ := b["type"].(string); typ {
		case "section":
			t, tt := textOf(b["text"])
			fields, _ := b["fields"].([]any)
			if t == "" && len(fields) == 0 {
				bad(i, "section needs text or fields")
			}
			if b["text"] != nil && tt != "mrkdwn" && tt != "plain_text" {
				bad(i, "text must be mrkdwn or plain_text")
			}
			if runes(t) > 3000 {
				bad(i, "must be less than 3001 characters")
			}
			if len(fields) > 10 {
				bad(i, "no more than 10 fields allowed")
			}
			for _, f := range fields {
				if ft, _ := textOf(f); runes(ft) > 2000 || ft == "" {
					bad(i, "each field must have 1 to 2000 characters")
				}
			}
			if acc := b["accessory"]; acc != nil {
				elementsOK([]any{acc}, 1)
			}
		case "header":
			t, tt := textOf(b["text"])
			if tt != "plain_text" || t == "" || runes(t) > 150 {
				bad(i, "header text must be plain_text of 1 to 150 characters")
			}
		case "divider":
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) == 0 {
				bad(i, "actions needs elements")
			}
			elementsOK(els, 25)
		case "context":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > 10 {
				bad(i, "context needs 1 to 10 elements")
			}
			for _, e := range els {
				if t, tt := textOf(e); (tt == "mrkdwn" || tt == "plain_text") && (t == "" || runes(t) > 3000) {
					bad(i, "context text must have 1 to 3000 characters")
				}
			}
		case "input":
			if surface == "message" {
				bad(i, "input blocks are not allowed in messages")
			}
			if t, _ := textOf(b["label"]); t == "" || runes(t) > 2000 {
				bad(i, "input label must have 1 to 2000 characters")
			}
			if b["element"] == nil {
				bad(i, "input needs an element")
			} else {
				elementsOK([]any{b["element"]}, 1)
			}
		case "image":
			if u, _ := b["image_url"].(string); u == "" {
				bad(i, "image needs image_url")
			}
		default:
			bad(i, "unsupported block type %q", typ)
		}
	}
	return msgs
}

func validateElement(raw any, surface string, actionIDs map[string]bool) []string {
	e, ok := raw.(map[string]any)
	if !ok {
		return []string{"element must be an object"}
	}
	var msgs []string
	if id, ok := e["action_id"].(string); ok {
		if len(id) > 255 {
			msgs = append(msgs, "action_id must be at most 255 characters")
		}
		if actionIDs[id] {
			msgs = append(msgs, fmt.Sprintf("action_id %q is not unique", id))
		}
		actionIDs[id] = true
	}
	switch typ, _ := e["type"].(string); typ {
	case "button":
		if t, tt := textOf(e["text"]); tt != "plain_text" || t == "" || runes(t) > 75 {
			msgs = append(msgs, "button text must be plain_text of 1 to 75 characters")
		}
		if v, _ := e["value"].(string); len(v) > 2000 {
			msgs = append(msgs, "button value must be at most 2000 characters")
		}
		if st, ok := e["style"].(string); ok && st != "primary" && st != "danger" {
			msgs = append(msgs, "button style must be primary or danger")
		}
	case "plain_text_input":
		if n, ok := e["max_length"].(float64); ok && (n < 1 || n > 3000) {
			msgs = append(msgs, "max_length must be 1 to 3000")
		}
	case "static_select":
		opts, _ := e["options"].([]any)
		if len(opts) == 0 || len(opts) > 100 {
			msgs = append(msgs, "static_select needs 1 to 100 options")
		}
	case "datepicker":
		if d, ok := e["initial_date"].(string); ok && len(d) != 10 {
			msgs = append(msgs, "initial_date must be YYYY-MM-DD")
		}
	case "users_select":
		if u, ok := e["initial_user"].(string); ok && u == "" {
			msgs = append(msgs, "initial_user must not be empty")
		}
	case "multi_users_select":
		if us, ok := e["initial_users"].([]any); ok && len(us) == 0 {
			msgs = append(msgs, "initial_users must not be empty")
		}
	case "conversations_select":
		if c, ok := e["initial_conversation"].(string); ok && c == "" {
			msgs = append(msgs, "initial_conversation must not be empty")
		}
	case "file_input":
		if surface != "modal" {
			msgs = append(msgs, "file_input is allowed only in modals")
		}
		if n, ok := e["max_files"].(float64); ok && (n < 1 || n > 10) {
			msgs = append(msgs, "max_files must be 1 to 10")
		}
	case "image", "mrkdwn", "plain_text", "overflow", "checkboxes", "radio_buttons":
	default:
		msgs = append(msgs, fmt.Sprintf("unsupported element type %q", typ))
	}
	return msgs
}

// validateView checks a modal or App Home view.
func validateView(v map[string]any, want string) []string {
	var msgs []string
	typ, _ := v["type"].(string)
	if typ != want {
		return []string{fmt.Sprintf("[ERROR] view type must be %s [json-pointer:/view/type]", want)}
	}
	for _, k := range []string{"title", "submit", "close"} {
		t, tt := textOf(v[k])
		if v[k] == nil {
			if k == "title" && typ == "modal" {
				msgs = append(msgs, "[ERROR] modal needs a title [json-pointer:/view/title]")
			}
			continue
		}
		if tt != "plain_text" || t == "" || runes(t) > 24 {
			msgs = append(msgs, fmt.Sprintf("[ERROR] %s must be plain_text of 1 to 24 characters [json-pointer:/view/%s]", k, k))
		}
	}
	if id, _ := v["callback_id"].(string); len(id) > 255 {
		msgs = append(msgs, "[ERROR] callback_id must be at most 255 characters [json-pointer:/view/callback_id]")
	}
	if pm, _ := v["private_metadata"].(string); len(pm) > 3000 {
		msgs = append(msgs, "[ERROR] private_metadata must be at most 3000 characters [json-pointer:/view/private_metadata]")
	}
	blocks, _ := v["blocks"].([]any)
	surface := typ
	msgs = append(msgs, validateBlocks(blocks, maxViewBlocks, surface)...)
	if typ == "modal" && v["submit"] == nil {
		for _, b := range blocks {
			if m, _ := b.(map[string]any); m["type"] == "input" {
				msgs = append(msgs, "[ERROR] a modal with inputs needs submit [json-pointer:/view/submit]")
				break
			}
		}
	}
	return msgs
}
