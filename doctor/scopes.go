package doctor

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// scopeUse says, for each bot scope the manifest asks for, whether the bot cannot work without
// it and what stops working when it is missing. TestEveryManifestScopeIsExplained keeps it in
// step with manifest.yml.
var scopeUse = map[string]struct {
	required bool
	without  string
}{
	"commands":         {true, "the /expense command does not exist"},
	"chat:write":       {true, "the bot cannot post approval cards, update them, or answer anyone"},
	"im:write":         {true, "submitters are not told the outcome in a direct message"},
	"users:read":       {true, "people cannot be looked up: the approval API cannot check a submitter, and exports lack names"},
	"usergroups:read":  {false, "reviewer user groups (S…) cannot be expanded: their members cannot decide"},
	"files:read":       {false, "receipts attached in the form or posted in the bot's DM cannot be read or checked, and the accounting export lacks their checksums"},
	"files:write":      {false, "receipts are not copied into the approval card's thread: reviewers do not see them"},
	"channels:history": {false, "after a crash, an approval card in a public approvals channel may be posted twice"},
	"groups:history":   {false, "after a crash, an approval card in a private approvals channel may be posted twice"},
	"im:history":       {false, "receipts posted in the bot's DM are not drafted (no message.im events), and after a crash a direct message to a submitter may be sent twice"},
	"channels:read":    {false, "the bot cannot check that it can post to a public approvals channel, nor say how to fix it"},
	"groups:read":      {false, "the bot cannot check that it can post to a private approvals channel, nor say how to fix it"},
	"users:read.email": {false, "the approval API cannot find a submitter by email address"},
	"reactions:write":  {false, "a receipt posted in the bot's DM gets no :eyes: reaction while it is read (its draft still comes)"},
}

// ManifestScopes returns the bot scopes a Slack app manifest asks for, in its order.
func ManifestScopes(manifest []byte) ([]string, error) {
	var m struct {
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
	}
	if err := yaml.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("doctor: read the manifest: %w", err)
	}
	return m.OAuth.Scopes.Bot, nil
}

// checkScopes compares the scopes Slack lists as granted (the X-OAuth-Scopes header, comma
// separated) with those the manifest asks for. A missing scope the bot cannot work without is a
// problem; another is a warning that says what stops working. usergroups:read is required when
// a user group is configured.
func checkScopes(s Setup, header string) []Finding {
	want, err := ManifestScopes(s.Manifest)
	if err != nil || len(want) == 0 {
		return []Finding{{Check: "scopes", Status: Warning, Detail: "not checked: the manifest lists no bot scopes",
			Fix: "compare the scopes on the app's OAuth & Permissions page with manifest.yml by hand"}}
	}
	if strings.TrimSpace(header) == "" {
		return []Finding{{Check: "scopes", Status: Warning, Detail: "not checked: Slack did not list the token's scopes",
			Fix: "compare the scopes on the app's OAuth & Permissions page with manifest.yml by hand"}}
	}
	var granted []string
	for g := range strings.SplitSeq(header, ",") {
		if g = strings.TrimSpace(g); g != "" {
			granted = append(granted, g)
		}
	}
	groups := slices.ContainsFunc(s.People, func(u Use) bool { return strings.HasPrefix(u.ID, "S") })
	var out []Finding
	for _, scope := range want {
		if slices.Contains(granted, scope) {
			continue
		}
		use, known := scopeUse[scope]
		without := use.without
		if !known {
			without = "a feature of manifest.yml does not work (see the comment beside the scope there)"
		}
		status := Warning
		if use.required || (scope == "usergroups:read" && groups) {
			status = Problem
		}
		out = append(out, Finding{Check: "scope " + scope, Status: status, Detail: "not granted: " + without,
			Fix: fmt.Sprintf("add %s under OAuth & Permissions → Bot Token Scopes (or update the app from manifest.yml), %s", scope, reinstall)})
	}
	if len(out) == 0 {
		out = append(out, Finding{Check: "scopes", Status: OK, Detail: fmt.Sprintf("all %d bot scopes of manifest.yml are granted", len(want))})
	}
	var extra []string
	for _, g := range granted {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	if len(extra) > 0 {
		out = append(out, Finding{Check: "scopes", Status: Info, Detail: "granted but not used: " + strings.Join(extra, ", "),
			Fix: "remove them under OAuth & Permissions and reinstall, so that the app holds no more than it needs"})
	}
	return out
}
