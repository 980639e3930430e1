package expensebot_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/expensebot/expensebot"
)

// TestCheckText: the one rule every edge applies to user text. Each refusal is EINVALID, names
// its field and says what and where, so the person can find it; everything a person can type,
// in any script, passes. To add a case, add a row.
func TestCheckText(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		multiline bool
		want      string // "" when accepted; else what the message must say
	}{
		{"plain", "Taxi to the airport", false, ""},
		{"other scripts and emoji", "Кофе ☕ 東京 مطعم", false, ""},
		{"tab", "a\tb", false, ""},
		{"lines where multiline", "first\nsecond\r\nthird", true, ""},
		{"bidi controls are display matters", "Hotel \u202e00.09\u202c", false, ""},
		{"empty", "", false, ""},
		{"NUL", "Taxi\x00", false, "(U+0000, NUL) at character 5"},
		{"NUL where multiline", "a\nb\x00", true, "U+0000, NUL"},
		{"bell", "a\ab", true, "(U+0007, BEL) at character 2"},
		{"escape", "\x1b[31mred", false, "U+001B, escape"},
		{"DEL", "x\x7f", false, "U+007F, DEL"},
		{"C1 control", "x\u0085", false, "U+0085"},
		{"line break on one line", "25\n00", false, "must be on one line; it has a line break at character 3"},
		{"carriage return on one line", "25\r", false, "line break"},
		{"invalid UTF-8", "Caf\xe9 au lait", false, "not valid UTF-8 text (a stray byte 0xE9 at byte 4)"},
		{"truncated sequence", "ok \xe2\x82", true, "at byte 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := expensebot.CheckText("description", tt.text, tt.multiline)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckText(%q) = %v, want nil", tt.text, err)
				}
				return
			}
			var e *expensebot.Error
			if err == nil || expensebot.ErrorCode(err) != expensebot.EINVALID {
				t.Fatalf("CheckText(%q) = %v, want EINVALID", tt.text, err)
			}
			if msg := expensebot.ErrorMessage(err); !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "The description ") {
				t.Errorf("message = %q, want it to name the description and say %q", msg, tt.want)
			}
			if e, _ = err.(*expensebot.Error); e == nil || e.Field != "description" {
				t.Errorf("field = %+v, want description", e)
			}
		})
	}
}

// TestNeutralizeBidi: a direction control in user text is shown as a visible placeholder, so the
// text displays in the order it was typed. The first row is the attack from the review: a
// right-to-left override that makes "00.09" display as "90.00".
func TestNeutralizeBidi(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Lunch \u202e00.09\u202c", "Lunch \ufffd00.09\ufffd"},
		{"\u202a\u202b\u202d x", "\ufffd\ufffd\ufffd x"},
		{"\u2066a\u2067b\u2068c\u2069", "\ufffda\ufffdb\ufffdc\ufffd"},
		{"mark\u200e\u200f\u061c", "mark\ufffd\ufffd\ufffd"},
		{"שלום עולם and مرحبا", "שלום עולם and مرحبا"}, // right-to-left letters themselves are not controls
		{"zero\u200bwidth", "zero\u200bwidth"},         // not a direction control
	}
	for _, tt := range tests {
		if got := expensebot.NeutralizeBidi(tt.in); got != tt.want {
			t.Errorf("NeutralizeBidi(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for r := rune(0); r < 0x3000; r++ {
		want := r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
		if expensebot.IsBidiControl(r) != want {
			t.Errorf("IsBidiControl(%U) = %v", r, !want)
		}
	}
}

// FuzzText checks the two text rules by property: CheckText never panics and accepts only valid
// UTF-8 without NUL; NeutralizeBidi leaves no direction control, keeps every other character in
// place (valid text keeps its length in characters) and changes nothing a second time.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "Taxi", "Lunch \u202e00.09\u202c", "a\x00b", "Caf\xe9", "\u2066\u2069\u200e", "line\nbreak\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if expensebot.CheckText("text", s, true) == nil && (!utf8.ValidString(s) || strings.ContainsRune(s, 0)) {
			t.Errorf("CheckText accepted %q", s)
		}
		n := expensebot.NeutralizeBidi(s)
		if strings.ContainsFunc(n, expensebot.IsBidiControl) {
			t.Errorf("NeutralizeBidi(%q) = %q still has a direction control", s, n)
		}
		if utf8.ValidString(s) && utf8.RuneCountInString(n) != utf8.RuneCountInString(s) {
			t.Errorf("NeutralizeBidi(%q) = %q changed the length", s, n)
		}
		if expensebot.NeutralizeBidi(n) != n {
			t.Errorf("NeutralizeBidi is not idempotent on %q", s)
		}
	})
}
