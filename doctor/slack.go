package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/slack-go/slack"
)

// reinstall ends every fix that changes the app's scopes: Slack grants them only at install.
const reinstall = "then reinstall the app to the workspace (OAuth & Permissions → Reinstall to Workspace): Slack grants scopes only at install"

// checkSlack checks the tokens, then, with a bot token Slack accepts, the scopes, the channels
// and the people.
func checkSlack(ctx context.Context, s Setup) []Finding {
	hc := s.Slack.Client
	if hc == nil {
		hc = &http.Client{Timeout: s.Timeout}
	}
	api := slack.New(s.Slack.BotToken, slack.OptionAppLevelToken(s.Slack.AppToken), slack.OptionAPIURL(s.Slack.APIURL), slack.OptionHTTPClient(hc))
	var out []Finding
	bot, auth := checkBotToken(ctx, s, api)
	out = append(out, bot)
	if !s.Start {
		out = append(out, checkAppToken(ctx, s, api))
	}
	if auth == nil {
		return append(out, Finding{Check: "scopes, approvals channels and reviewers", Status: Info,
			Detail: "not checked: they need a bot token that Slack accepts", Fix: "fix SLACK_BOT_TOKEN first (above)"})
	}
	out = append(out, checkScopes(s, auth.Header.Get("X-OAuth-Scopes"))...)
	for _, ch := range s.Channels {
		out = append(out, checkChannel(ctx, s, api, ch))
	}
	for _, p := range dedupe(s.People) {
		out = append(out, checkPerson(ctx, s, api, p))
	}
	return out
}

// checkBotToken calls auth.test with the bot token; it returns the answer when Slack accepted it.
func checkBotToken(ctx context.Context, s Setup, api *slack.Client) (Finding, *slack.AuthTestResponse) {
	f := Finding{Check: "bot token (SLACK_BOT_TOKEN)"}
	tok := s.Slack.BotToken
	switch {
	case tok == "":
		f.Status, f.Detail = Problem, "not set"
		f.Fix = "install the app to the workspace (OAuth & Permissions → Install to Workspace) and set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…)"
		return f, nil
	case !strings.HasPrefix(tok, "xoxb-"):
		f.Status, f.Detail = Problem, "not a bot token: it should start with xoxb-"
		f.Fix = "use the Bot User OAuth Token from the app's OAuth & Permissions page, not a user token (xoxp-) or the app-level token (xapp-)"
		return f, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	auth, err := api.AuthTestContext(ctx)
	if err != nil {
		f.Status = Problem
		f.Detail, f.Fix = slackFailure(err, s.Slack.APIURL, "SLACK_BOT_TOKEN",
			"copy the Bot User OAuth Token again from the app's OAuth & Permissions page: a reinstall or a regenerated token makes the old one stop working")
		return f, nil
	}
	f.Status, f.Detail = OK, fmt.Sprintf("Slack accepts it: workspace %q, bot user @%s (%s)", auth.Team, auth.User, auth.UserID)
	return f, auth
}

// checkAppToken asks for a Socket Mode connection URL with the app-level token, without dialling
// it: Slack has then accepted the token, its connections:write scope and Socket Mode.
func checkAppToken(ctx context.Context, s Setup, api *slack.Client) Finding {
	f := Finding{Check: "app-level token (SLACK_APP_TOKEN)"}
	tok := s.Slack.AppToken
	switch {
	case tok == "":
		f.Status, f.Detail = Problem, "not set"
		f.Fix = "on the app's Basic Information page, under App-Level Tokens, generate a token with the connections:write scope and set SLACK_APP_TOKEN to it (xapp-…)"
		return f
	case !strings.HasPrefix(tok, "xapp-"):
		f.Status, f.Detail = Problem, "not an app-level token: it should start with xapp-"
		f.Fix = "use an App-Level Token from the app's Basic Information page (scope connections:write), not the bot token"
		return f
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	_, _, err := api.StartSocketModeContext(ctx)
	if err != nil {
		f.Status = Problem
		f.Detail, f.Fix = slackFailure(err, s.Slack.APIURL, "SLACK_APP_TOKEN",
			"on the app's Basic Information page, generate an App-Level Token with the connections:write scope, set SLACK_APP_TOKEN to it, and check that Socket Mode is on (Settings → Socket Mode)")
		return f
	}
	f.Status, f.Detail = OK, "Slack accepts it and offers a Socket Mode connection"
	return f
}

// slackFailure says why a call failed and what to do; refused is the fix for a token Slack
// does not accept.
func slackFailure(err error, apiURL, variable, refused string) (detail, fix string) {
	var se slack.SlackErrorResponse
	var rl *slack.RateLimitedError
	switch {
	case errors.As(err, &rl):
		return fmt.Sprintf("Slack asks to wait %s (rate limited)", rl.RetryAfter), "run the check again in a minute"
	case !errors.As(err, &se):
		var status slack.StatusCodeError
		if errors.As(err, &status) && status.Code == http.StatusNotFound {
			// Slack answers 404 to apps.connections.open with a token of the wrong kind.
			return fmt.Sprintf("Slack does not accept %s (HTTP 404)", variable), refused
		}
		return fmt.Sprintf("no answer from Slack at %s: %v", apiURL, err),
			"check this machine's network, its proxy settings (HTTPS_PROXY), and SLACK_API_URL (normally https://slack.com/api/)"
	}
	switch se.Err {
	case "invalid_auth", "not_authed", "not_allowed_token_type":
		return fmt.Sprintf("Slack does not accept %s (%s)", variable, se.Err), refused
	case "token_revoked", "token_expired", "account_inactive", "app_uninstalled":
		return fmt.Sprintf("%s no longer works (%s): the app was uninstalled or the token revoked", variable, se.Err),
			"reinstall the app to the workspace and set " + variable + " to the new token"
	case "missing_scope":
		return fmt.Sprintf("%s lacks a scope (missing_scope)", variable), refused
	}
	return fmt.Sprintf("Slack answered %s", se.Err), refused
}

// checkChannel checks that the bot can post approval cards to a channel: it exists, is not
// archived, and the bot is in it.
func checkChannel(ctx context.Context, s Setup, api *slack.Client, u Use) Finding {
	f := Finding{Check: fmt.Sprintf("approvals channel %s (%s)", u.ID, u.Where), Status: Problem}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	c, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: u.ID})
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &se) && se.Err == "channel_not_found":
		f.Detail = "there is no such channel, or it is private and the bot is not in it"
		f.Fix = fmt.Sprintf("check the id in %s (in Slack: the channel's name → About → Channel ID at the bottom); for a private channel, type /invite @expensebot in it", u.Where)
	case errors.As(err, &se) && se.Err == "missing_scope":
		f.Detail = "the bot may not read channel details (missing_scope)"
		f.Fix = "add the channels:read and groups:read scopes under OAuth & Permissions, " + reinstall
	case err != nil:
		f.Detail, f.Fix = slackFailure(err, s.Slack.APIURL, "SLACK_BOT_TOKEN", "check SLACK_BOT_TOKEN")
	case c.IsArchived:
		f.Detail = fmt.Sprintf("#%s is archived: approval cards cannot be posted", c.Name)
		f.Fix = fmt.Sprintf("unarchive #%s, or set %s to another channel", c.Name, u.Where)
	case !c.IsMember:
		f.Detail = fmt.Sprintf("the bot is not in #%s: approval cards cannot be posted there", c.Name)
		f.Fix = fmt.Sprintf("type /invite @expensebot in #%s", c.Name)
	default:
		f.Status, f.Detail = OK, fmt.Sprintf("#%s: the bot is in it", c.Name)
	}
	return f
}

// checkPerson checks that a user id is an active person, or that a user-group id is a group
// with members.
func checkPerson(ctx context.Context, s Setup, api *slack.Client, u Use) Finding {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	if strings.HasPrefix(u.ID, "S") {
		return checkGroup(ctx, s, api, u)
	}
	f := Finding{Check: fmt.Sprintf("user %s (%s)", u.ID, u.Where), Status: Problem}
	where := fmt.Sprintf("replace or remove %s in %s (to find a person's id in Slack: their profile → ⋯ → Copy member ID)", u.ID, u.Where)
	user, err := api.GetUserInfoContext(ctx, u.ID)
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &se) && (se.Err == "user_not_found" || se.Err == "users_not_found"):
		f.Detail, f.Fix = "no such user in this workspace", where
	case errors.As(err, &se) && se.Err == "missing_scope":
		f.Detail = "the bot may not look people up (missing_scope)"
		f.Fix = "add the users:read scope under OAuth & Permissions, " + reinstall
	case err != nil:
		f.Detail, f.Fix = slackFailure(err, s.Slack.APIURL, "SLACK_BOT_TOKEN", "check SLACK_BOT_TOKEN")
	case user.Deleted:
		f.Detail, f.Fix = fmt.Sprintf("%s is deactivated: they can no longer decide or be told", displayName(user)), where
	case user.IsBot:
		f.Detail, f.Fix = fmt.Sprintf("%s is a bot, not a person", displayName(user)), where
	default:
		f.Status, f.Detail = OK, displayName(user)
	}
	return f
}

func checkGroup(ctx context.Context, s Setup, api *slack.Client, u Use) Finding {
	f := Finding{Check: fmt.Sprintf("user group %s (%s)", u.ID, u.Where), Status: Problem}
	members, err := api.GetUserGroupMembersContext(ctx, u.ID)
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &se) && se.Err == "no_such_subteam":
		f.Detail = "no such user group in this workspace"
		f.Fix = fmt.Sprintf("replace or remove %s in %s (to find a group's id in Slack: People → User groups → the group → ⋯ → Copy group ID)", u.ID, u.Where)
	case errors.As(err, &se) && se.Err == "plan_upgrade_required":
		f.Detail = "this workspace's plan has no user groups"
		f.Fix = fmt.Sprintf("name the people by user id (U…) in %s instead", u.Where)
	case errors.As(err, &se) && se.Err == "missing_scope":
		f.Detail = "the bot may not read user groups (missing_scope)"
		f.Fix = "add the usergroups:read scope under OAuth & Permissions, " + reinstall
	case err != nil:
		f.Detail, f.Fix = slackFailure(err, s.Slack.APIURL, "SLACK_BOT_TOKEN", "check SLACK_BOT_TOKEN")
	case len(members) == 0:
		f.Status, f.Detail = Warning, "the group has no members: no one in it can decide"
		f.Fix = fmt.Sprintf("add people to the group in Slack, or name them by user id in %s", u.Where)
	default:
		f.Status, f.Detail = OK, plural(len(members), "member")
	}
	return f
}

func displayName(u *slack.User) string {
	name := u.RealName
	if name == "" {
		name = u.Profile.RealName
	}
	if name == "" {
		return "@" + u.Name
	}
	return fmt.Sprintf("%s (@%s)", name, u.Name)
}

// dedupe merges the uses of one id, keeping the first's place in the list.
func dedupe(uses []Use) []Use {
	var out []Use
	at := map[string]int{}
	for _, u := range uses {
		if i, ok := at[u.ID]; ok {
			if !strings.Contains(out[i].Where, u.Where) {
				out[i].Where += ", " + u.Where
			}
			continue
		}
		at[u.ID] = len(out)
		out = append(out, u)
	}
	return out
}
