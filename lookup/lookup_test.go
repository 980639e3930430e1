package lookup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/expensebot/expensebot"
)

// directory answers lookups, counting them; a name in down fails.
type directory struct {
	mu        sync.Mutex
	asked     []string
	down      map[string]bool
	people    []expensebot.Person // saved
	described []string            // "expense/file permalink"
}

func (d *directory) Person(_ context.Context, id string) (expensebot.Person, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, id)
	if d.down[id] {
		return expensebot.Person{}, errors.New("users.info: fatal_error")
	}
	return expensebot.Person{ID: id, Name: "name of " + id}, nil
}

func (d *directory) ReceiptFile(_ context.Context, id string) (expensebot.ReceiptFile, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, id)
	return expensebot.ReceiptFile{FileID: id, Permalink: "https://x/" + id}, nil
}

func (d *directory) SavePeople(_ context.Context, ps []expensebot.Person) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.people = append(d.people, ps...)
	return nil
}

func (d *directory) DescribeReceipt(_ context.Context, expenseID int64, f expensebot.ReceiptFile) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.described = append(d.described, fmt.Sprintf("%d/%s %s", expenseID, f.FileID, f.Permalink))
	return nil
}

func (d *directory) describedAs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.described)
}

func (d *directory) lookedUp() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.asked)
}

// TestLookupsOncePerDay: a burst of events about the same people and files costs one lookup
// each, gathered; a failed lookup is asked again by the next event; a name is looked up again a
// day later.
func TestLookupsOncePerDay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &directory{down: map[string]bool{"UBAD": true}}
		l := New(d, d, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); l.Run(ctx, context.Background()) }()
		settle := func() { time.Sleep(time.Second); synctest.Wait() }

		for range 3 {
			l.Person("U1")
			l.Person("UBAD")
			l.Receipts(7, "F1", "F1")
		}
		settle()
		if got := d.lookedUp(); !slices.Equal(got, []string{"U1", "UBAD", "F1"}) {
			t.Errorf("looked up %v, want each once", got)
		}
		if got := d.describedAs(); !slices.Equal(got, []string{"7/F1 https://x/F1"}) {
			t.Errorf("described %v, want F1 of expense 7 with its link", got)
		}
		l.Person("U1")   // known today: no lookup
		l.Person("UBAD") // failed: asked again
		l.Receipts(7, "F1")
		settle()
		if got := d.lookedUp()[3:]; !slices.Equal(got, []string{"UBAD"}) {
			t.Errorf("then looked up %v, want only the failed one again", got)
		}
		time.Sleep(25 * time.Hour)
		l.Person("U1")
		settle()
		if got := d.lookedUp()[4:]; !slices.Equal(got, []string{"U1"}) {
			t.Errorf("a day later looked up %v, want U1 again", got)
		}
		cancel()
		<-done
	})
}
