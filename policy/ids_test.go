package policy

import (
	"strings"
	"testing"
)

// TestIDsNotNames: names where ids belong are refused with where to copy the id, so that a
// configuration nobody could approve under never starts.
func TestIDsNotNames(t *testing.T) {
	for _, tt := range []struct {
		check func(string) error
		in    string
		want  string // "" for accepted
	}{
		{CheckReviewer, "U0123ABC", ""},
		{CheckReviewer, "W0123ABC", ""},
		{CheckReviewer, "S0REV", ""},
		{CheckReviewer, "@rita", "Copy member ID"},
		{CheckReviewer, "finance-team", "Copy member ID"},
		{CheckReviewer, "rita", "Copy member ID"},
		{CheckReviewer, "C0123", "not a user id"},
		{CheckChannel, "C0APPROVALS1", ""},
		{CheckChannel, "G0PRIVATE1", ""},
		{CheckChannel, "#expense-approvals", "Channel ID"},
		{CheckChannel, "expense-approvals", "Channel ID"},
		{CheckChannel, "U0123", "not a channel id"},
	} {
		err := tt.check(tt.in)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q refused: %v", tt.in, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: %v, want %q", tt.in, err, tt.want)
		}
	}
}
