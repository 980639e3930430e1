// Package lookup fills the exports' caches of people's names and receipt files from the
// platform's directory. The workflow asks for a person or a file to be looked up when an event
// names them; the lookups happen off the path of any request, gathered in bursts, once per person
// a day and once per file, and what they find is kept in the store for the exports, which then
// never call the platform.
package lookup

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
)

// Directory describes people and receipt files as the platform knows them (*handlers.Messenger
// is one).
type Directory interface {
	Person(ctx context.Context, id string) (expensebot.Person, error)
	// ReceiptFile returns how the platform describes a file: its link. It does not download the
	// file: the workflow hashed it when it checked the receipt.
	ReceiptFile(ctx context.Context, id string) (expensebot.ReceiptFile, error)
}

// Store keeps what the lookups find (*store.DB has it).
type Store interface {
	SavePeople(ctx context.Context, ps []expensebot.Person) error
	DescribeReceipt(ctx context.Context, expenseID int64, f expensebot.ReceiptFile) error
}

// Lookups remembers whose names and which receipt files to look up. Its methods are safe for
// concurrent use.
type Lookups struct {
	dir   Directory // nil: nothing is looked up
	store Store
	log   *slog.Logger
	now   func() time.Time
	wake  chan struct{}

	mu      sync.Mutex
	people  map[string]bool      // to look up
	files   map[receipt]bool     // to look up
	seen    map[string]time.Time // person → when last looked up
	fetched map[receipt]bool     // looked up
}

// receipt is a file as one expense lists it.
type receipt struct {
	expense int64
	file    string
}

// lookupGather is how long lookups asked for are gathered before they are made.
const lookupGather = 500 * time.Millisecond

// personTTL is how long a looked-up name is trusted before it is looked up again.
const personTTL = 24 * time.Hour

// New returns Lookups that ask dir (nil: nobody) and keep what it finds in st; now is the clock
// of personTTL (nil: time.Now).
func New(dir Directory, st Store, now func() time.Time, log *slog.Logger) *Lookups {
	if now == nil {
		now = time.Now
	}
	return &Lookups{dir: dir, store: st, log: log, now: now, wake: make(chan struct{}, 1), people: map[string]bool{}, files: map[receipt]bool{},
		seen: map[string]time.Time{}, fetched: map[receipt]bool{}}
}

// Person asks for user's name to be looked up, unless it was today.
func (l *Lookups) Person(user string) {
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

// Receipts asks for the receipt files of an expense to be looked up, unless they were.
func (l *Lookups) Receipts(expenseID int64, ids ...string) {
	l.mu.Lock()
	due := false
	for _, id := range ids {
		if r := (receipt{expenseID, id}); id != "" && !l.fetched[r] {
			l.files[r], due = true, true
		}
	}
	l.mu.Unlock()
	if due {
		l.kick()
	}
}

func (l *Lookups) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// take returns what is due, sorted, and forgets it; what then fails is asked for again by the
// next event about the same person or file.
func (l *Lookups) take() (people []string, files []receipt) {
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
	l.people, l.files = map[string]bool{}, map[receipt]bool{}
	l.bound()
	slices.Sort(people)
	slices.SortFunc(files, func(a, b receipt) int {
		if c := cmp.Compare(a.expense, b.expense); c != 0 {
			return c
		}
		return strings.Compare(a.file, b.file)
	})
	return people, files
}

// maxRemembered bounds what the lookups remember having looked up, so that memory does not grow
// with every person and file ever seen. Forgetting costs at most one more lookup of each.
const maxRemembered = 50_000

// bound keeps seen and fetched within maxRemembered: names past personTTL are forgotten first
// (they are due again anyway), then, if still too many, everything; l.mu is held.
func (l *Lookups) bound() {
	if len(l.seen) > maxRemembered {
		now := l.now()
		for u, at := range l.seen {
			if now.Sub(at) > personTTL {
				delete(l.seen, u)
			}
		}
		if len(l.seen) > maxRemembered {
			clear(l.seen)
		}
	}
	if len(l.fetched) > maxRemembered {
		clear(l.fetched)
	}
}

func (l *Lookups) forget(user string, file receipt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if user != "" {
		delete(l.seen, user)
	}
	if file.file != "" {
		delete(l.fetched, file)
	}
}

// Run looks up names and receipt files as they are asked for, until ctx ends; the lookups run on
// work. Without a Directory it only drains the requests.
func (l *Lookups) Run(ctx, work context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		}
		// Let the requests of a burst gather: their names are then saved in one statement, not
		// one each. Nothing waits for a lookup.
		select {
		case <-ctx.Done():
			return
		case <-time.After(lookupGather):
		}
		people, files := l.take()
		d := l.dir
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
				l.forget(u, receipt{})
				l.log.Warn("look up a name", "user_id", u, "err", err)
				continue
			}
			found = append(found, p)
		}
		if err := l.store.SavePeople(work, found); err != nil {
			for _, p := range found {
				l.forget(p.ID, receipt{})
			}
			l.log.Warn("keep names", "people", len(found), "err", err)
		}
		for _, f := range files {
			if ctx.Err() != nil {
				return
			}
			// Only the description: the workflow hashed the file when it checked it, and a
			// description never replaces that hash, so the file is not downloaded again.
			rf, err := d.ReceiptFile(work, f.file)
			if err == nil {
				err = l.store.DescribeReceipt(work, f.expense, expensebot.ReceiptFile{FileID: f.file, Permalink: rf.Permalink})
			}
			if err != nil {
				l.forget("", f)
				l.log.Warn("look up a receipt file", "expense_id", f.expense, "file_id", f.file, "err", err)
			}
		}
	}
}
