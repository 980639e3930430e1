package api

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Cache bounds: people are looked up again after peopleTTL (someone deactivated stops being a
// valid submitter within it); a message's permalink never changes. Each map is emptied when it
// reaches cacheMax entries, which bounds memory whatever clients send.
const (
	peopleTTL = 10 * time.Minute
	cacheMax  = 10_000
)

// directory caches what Slack answered about people and messages. Only answers are cached:
// a person not found is asked about again next time.
type directory struct {
	d Directory

	mu     sync.Mutex
	people map[string]cached // "email:addr" or "id:U…" → user id
	links  map[string]string // channel/ts → permalink
}

type cached struct {
	id string
	at time.Time
}

func newDirectory(d Directory) *directory {
	return &directory{d: d, people: map[string]cached{}, links: map[string]string{}}
}

func (c *directory) person(ctx context.Context, key string, lookup func() (string, error)) (string, error) {
	c.mu.Lock()
	hit, ok := c.people[key]
	c.mu.Unlock()
	if ok && time.Since(hit.at) < peopleTTL {
		return hit.id, nil
	}
	id, err := lookup()
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if len(c.people) >= cacheMax {
		clear(c.people)
	}
	c.people[key] = cached{id: id, at: time.Now()}
	c.mu.Unlock()
	return id, nil
}

// userByEmail resolves an address through users.lookupByEmail (cached).
func (c *directory) userByEmail(ctx context.Context, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	return c.person(ctx, "email:"+email, func() (string, error) { return c.d.UserByEmail(ctx, email) })
}

// user checks a user id (cached).
func (c *directory) user(ctx context.Context, id string) error {
	_, err := c.person(ctx, "id:"+id, func() (string, error) { return id, c.d.User(ctx, id) })
	return err
}

// permalink links to a message (cached for good).
func (c *directory) permalink(ctx context.Context, channel, ts string) (string, error) {
	key := channel + "/" + ts
	c.mu.Lock()
	link, ok := c.links[key]
	c.mu.Unlock()
	if ok {
		return link, nil
	}
	link, err := c.d.Permalink(ctx, channel, ts)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if len(c.links) >= cacheMax {
		clear(c.links)
	}
	c.links[key] = link
	c.mu.Unlock()
	return link, nil
}
