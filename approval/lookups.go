package approval

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
)

// lookups remembers whose names and which receipt files to look up for the exports' caches, so
// that the lookups happen off the path of any request, once per person a day and once per file.
type lookups struct {
	now  func() time.Time
	wake chan struct{}

	mu      sync.Mutex
	people  map[string]bool      // to look up
	files   map[string]bool      // to look up
	seen    map[string]time.Time // person → when last looked up
	fetched map[string]bool      // file → looked up
}

// lookupGather is how long lookups asked for are gathered before they are made.
const lookupGather = 500 * time.Millisecond

// personTTL is how long a looked-up name is trusted before it is looked up again.
const personTTL = 24 * time.Hour

func newLookups(now func() time.Time) *lookups {
	return &lookups{now: now, wake: make(chan struct{}, 1), people: map[string]bool{}, files: map[string]bool{},
		seen: map[string]time.Time{}, fetched: map[string]bool{}}
}

// person asks for user's name to be looked up, unless it was today.
func (l *lookups) person(user string) {
	if user == "" {
		return
	}
	l.mu.Lock()
	at, ok := l.seen[user]
	due := !ok || l.now().Sub(at) > personTTL
	if due {
		l.people[user] = true
	}
	l.mu.Unlock()
	if due {
		l.kick()
	}
}

// receipts asks for receipt files to be looked up, unless they were.
func (l *lookups) receipts(ids ...string) {
	l.mu.Lock()
	due := false
	for _, id := range ids {
		if id != "" && !l.fetched[id] {
			l.files[id], due = true, true
		}
	}
	l.mu.Unlock()
	if due {
		l.kick()
	}
}

func (l *lookups) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// take returns what is due, sorted, and forgets it; what then fails is asked for again by the
// next event about the same person or file.
func (l *lookups) take() (people, files []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for u := range l.people {
		people = append(people, u)
		l.seen[u] = l.now()
	}
	for f := range l.files {
		files = append(files, f)
		l.fetched[f] = true
	}
	l.people, l.files = map[string]bool{}, map[string]bool{}
	slices.Sort(people)
	slices.Sort(files)
	return people, files
}

func (l *lookups) forget(user, file string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if user != "" {
		delete(l.seen, user)
	}
	if file != "" {
		delete(l.fetched, file)
	}
}

// lookupLoop looks up names and receipt files as they are asked for, until ctx ends. Without a
// Directory it only drains the requests.
func (s *Service) lookupLoop(ctx, work context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.lookups.wake:
		}
		// Let the requests of a burst gather: their names are then saved in one statement, not
		// one each. Nothing waits for a lookup.
		select {
		case <-ctx.Done():
			return
		case <-time.After(lookupGather):
		}
		people, files := s.lookups.take()
		d := s.cfg.Directory
		if d == nil {
			continue
		}
		// The names found are written together: a burst of new people is one statement.
		var found []expensebot.Person
		for _, u := range people {
			if ctx.Err() != nil {
				return
			}
			p, err := d.Person(work, u)
			if err != nil {
				s.lookups.forget(u, "")
				s.log.Warn("look up a name", "user_id", u, "err", err)
				continue
			}
			found = append(found, p)
		}
		if err := s.store.SavePeople(work, found); err != nil {
			for _, p := range found {
				s.lookups.forget(p.ID, "")
			}
			s.log.Warn("keep names", "people", len(found), "err", err)
		}
		for _, f := range files {
			if ctx.Err() != nil {
				return
			}
			rf, err := d.ReceiptFile(work, f)
			if err == nil {
				err = s.store.SaveReceiptFile(work, rf)
			}
			if err != nil {
				s.lookups.forget("", f)
				s.log.Warn("look up a receipt file", "file_id", f, "err", err)
			}
		}
	}
}
