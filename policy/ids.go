package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// Who may decide and where cards go are named by Slack ids, never by names: a name such as @rita
// or #expense-approvals can change or repeat, and a name written where an id belongs would leave
// nobody able to approve. These checks serve the configuration and the policy file alike.

var (
	reviewerID = regexp.MustCompile(`^[UWS][A-Z0-9]+$`)
	channelID  = regexp.MustCompile(`^[CG][A-Z0-9]+$`)
)

// CheckReviewer reports why s is not a reviewer entry: a user id (U… or W…) or a user-group
// id (S…).
func CheckReviewer(s string) error {
	if reviewerID.MatchString(s) {
		return nil
	}
	if strings.HasPrefix(s, "@") || !strings.ContainsAny(s, "0123456789") || strings.ToUpper(s) != s {
		return fmt.Errorf("%q is a name, not an id: in Slack open the person's profile, choose ⋮ (More) → Copy member ID (U…); a user group's id (S…) is in its URL under People → User groups", s)
	}
	return fmt.Errorf("%q is not a user id (U…, W…) or a user-group id (S…)", s)
}

// CheckChannel reports why s is not a channel id (C… or, for a private channel, G…).
func CheckChannel(s string) error {
	if channelID.MatchString(s) {
		return nil
	}
	if strings.HasPrefix(s, "#") || !strings.ContainsAny(s, "0123456789") || strings.ToUpper(s) != s {
		return fmt.Errorf("%q is a name, not an id: open the channel, click its name, and copy the Channel ID at the bottom of the About tab (C…)", s)
	}
	return fmt.Errorf("%q is not a channel id (C…, or G… for an older private channel)", s)
}
