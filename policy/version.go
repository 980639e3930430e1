package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// Version names the routing rules in effect: the limits, the policy file's categories and
// routes, and the default approvals channel and reviewers. It is stored with every routed
// expense, so the audit trail says which rules routed it, and `expensebot policy` prints it. Equal
// rules have equal versions, however they were written.
func Version(r Rules, channel string, reviewers []string) string {
	reviewers = slices.Sorted(slices.Values(reviewers))
	// encoding/json writes map keys sorted: the same rules always hash the same.
	b, _ := json.Marshal(struct {
		Rules     Rules
		Channel   string
		Reviewers []string
	}{r, channel, reviewers})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}
