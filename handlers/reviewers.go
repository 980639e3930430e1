package handlers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

type groupLister interface {
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error)
}

// reviewerSet answers "may this person decide?", expanding user groups (S…) through
// usergroups.users.list and caching them: that method allows about 20 calls a minute.
type reviewerSet struct {
	ids   []string
	slack groupLister
	ttl   time.Duration

	mu    sync.Mutex
	cache map[string]groupMembers
}

type groupMembers struct {
	users []string
	at    time.Time
}

func newReviewerSet(ids []string, sl groupLister, ttl time.Duration) *reviewerSet {
	return &reviewerSet{ids: ids, slack: sl, ttl: ttl, cache: map[string]groupMembers{}}
}

func isGroup(id string) bool { return strings.HasPrefix(id, "S") }

// contains reports whether user is one of ids, directly or through a group.
func (r *reviewerSet) contains(ctx context.Context, ids []string, user string) (bool, error) {
	if slices.Contains(ids, user) {
		return true, nil
	}
	var firstErr error
	for _, id := range ids {
		if !isGroup(id) {
			continue
		}
		members, err := r.members(ctx, id)
		if err != nil {
			firstErr = err
			continue
		}
		if slices.Contains(members, user) {
			return true, nil
		}
	}
	return false, firstErr
}

// allowed reports whether user may decide an expense whose route names reviewers (nil: the
// configured ones).
func (r *reviewerSet) allowed(ctx context.Context, user string, routeReviewers []string) (bool, error) {
	if len(routeReviewers) > 0 {
		return r.contains(ctx, routeReviewers, user)
	}
	return r.contains(ctx, r.ids, user)
}

func (r *reviewerSet) members(ctx context.Context, group string) ([]string, error) {
	r.mu.Lock()
	c, ok := r.cache[group]
	r.mu.Unlock()
	if ok && time.Since(c.at) < r.ttl {
		return c.users, nil
	}
	users, err := r.slack.GetUserGroupMembersContext(ctx, group)
	if err != nil {
		if ok {
			return c.users, nil // a stale list beats refusing every reviewer while Slack is down
		}
		return nil, fmt.Errorf("expand reviewer group %s: %w", group, err)
	}
	r.mu.Lock()
	r.cache[group] = groupMembers{users: users, at: time.Now()}
	r.mu.Unlock()
	return users, nil
}
