package approval

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// reviewerSet answers "may this person decide?", expanding user groups (S…) and caching their
// members for at most ttl: a list older than that is never used, so someone removed from a group
// loses the right within ttl, and while the list cannot be refreshed nobody decides through it.
// Concurrent lookups of one group share one call: a burst of clicks as a list expires asks Slack
// once.
type reviewerSet struct {
	ids    []string // guarded by mu
	groups Groups
	ttl    time.Duration
	now    func() time.Time

	mu     sync.Mutex
	cache  map[string]groupMembers
	flight singleflight.Group
}

type groupMembers struct {
	users []string
	at    time.Time
}

func newReviewerSet(ids []string, g Groups, ttl time.Duration, now func() time.Time) *reviewerSet {
	return &reviewerSet{ids: ids, groups: g, ttl: ttl, now: now, cache: map[string]groupMembers{}}
}

func isGroup(id string) bool { return strings.HasPrefix(id, "S") }

// contains reports whether user is one of ids, directly or through a group. An error means a
// group that might have included user could not be expanded.
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
	return r.contains(ctx, r.configured(), user)
}

// configured are the reviewers of the rules in force.
func (r *reviewerSet) configured() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids
}

// setConfigured makes ids the reviewers of the rules in force (an administrator changed them);
// the cache of groups' members is kept.
func (r *reviewerSet) setConfigured(ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = ids
}

func (r *reviewerSet) members(ctx context.Context, group string) ([]string, error) {
	r.mu.Lock()
	c, ok := r.cache[group]
	r.mu.Unlock()
	if ok && r.now().Sub(c.at) < r.ttl {
		return c.users, nil
	}
	if r.groups == nil {
		return nil, fmt.Errorf("expand reviewer group %s: no directory", group)
	}
	// The shared call outlives a caller that gives up: the others still wait for it.
	ch := r.flight.DoChan(group, func() (any, error) {
		users, err := r.groups.GroupMembers(context.WithoutCancel(ctx), group)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.cache[group] = groupMembers{users: users, at: r.now()}
		r.mu.Unlock()
		return users, nil
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("expand reviewer group %s: %w", group, ctx.Err())
	case res := <-ch:
		if res.Err != nil {
			return nil, fmt.Errorf("expand reviewer group %s: %w", group, res.Err)
		}
		return res.Val.([]string), nil
	}
}
