package expensebot

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckText says why s cannot be taken as text a person typed, or returns nil. It is the one
// rule every edge (the /expense command, the forms, the approval API) asks about each piece of
// user text before anything is stored:
//
//   - s must be valid UTF-8: neither database stores anything else, and PostgreSQL refuses a
//     whole transaction for one bad byte;
//   - s must hold no control character: no NUL (which PostgreSQL cannot store in text), none of
//     the other C0 controls U+0001–U+001F, no DEL and no C1 control U+0080–U+009F. A tab is
//     always allowed; a line feed and a carriage return only where multiline, in text that may
//     have lines (a description, a reason, a comment).
//
// name is how the message calls the text ("description", "amount") and becomes the error's
// Field. The error is an EINVALID *[Error] whose message says what was found and where, so that
// the person can find it: "The description contains a control character (U+0000, NUL) at
// character 12; please remove it."
func CheckText(name, s string, multiline bool) error {
	if !utf8.ValidString(s) {
		at := 0
		for at < len(s) {
			r, size := utf8.DecodeRuneInString(s[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		return textError(name, "The %s is not valid UTF-8 text (a stray byte 0x%02X at byte %d); please type or paste it again.", name, s[at], at+1)
	}
	n := 0
	for _, r := range s {
		n++
		if !unicode.IsControl(r) || r == '\t' || multiline && (r == '\n' || r == '\r') {
			continue
		}
		what := fmt.Sprintf("U+%04X", r)
		if cn, ok := controlNames[r]; ok {
			what += ", " + cn
		}
		if !multiline && (r == '\n' || r == '\r') {
			return textError(name, "The %s must be on one line; it has a line break at character %d.", name, n)
		}
		return textError(name, "The %s contains an invisible control character (%s) at character %d, which cannot be saved; please remove it.", name, what, n)
	}
	return nil
}

func textError(field, format string, args ...any) *Error {
	err := Errorf(EINVALID, format, args...)
	err.Field = field
	return err
}

var controlNames = map[rune]string{0: "NUL", '\a': "BEL", '\b': "backspace", '\v': "vertical tab", '\f': "form feed",
	0x1b: "escape", 0x7f: "DEL", '\n': "line feed", '\r': "carriage return"}

// IsBidiControl reports whether r changes the direction in which the text around it is
// displayed: the embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069, and the
// marks U+200E (LRM), U+200F (RLM) and U+061C (ALM). With them "…\u202E00.09\u202C" displays
// as "…90.00".
func IsBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// BidiPlaceholder is what [NeutralizeBidi] shows instead of a direction control: the
// replacement character, visible, so that a reader sees that the text carried one.
const BidiPlaceholder = "\uFFFD"

// NeutralizeBidi returns s with every direction control (see [IsBidiControl]) replaced by
// [BidiPlaceholder], so that user text is displayed in the order it was typed: "…\u202E00.09"
// shows as "…�00.09", never as "…90.00". It is for display only; what is stored is what was
// typed.
func NeutralizeBidi(s string) string {
	if !strings.ContainsFunc(s, IsBidiControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if IsBidiControl(r) {
			return utf8.RuneError
		}
		return r
	}, s)
}
