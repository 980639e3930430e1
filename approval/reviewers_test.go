package approval

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeGroups is a user-group directory whose members and availability a test changes.
type fakeGroups struct {
	members map[string][]string
	down    bool
	calls   int
}

func (g *fakeGroups) GroupMembers(_ context.Context, group string) ([]string, error) {
	g.calls++
	if g.down {
		return nil, errors.New("usergroups.users.list: service unavailable")
	}
	return g.members[group], nil
}

// TestGroupMembershipFailsClosed guards the authorization of reviewers who decide through a user
// group: someone removed from the group loses the right once the cached list is older than its
// time to live, and while the list cannot be refreshed nobody decides through the group (an old
// list is never trusted).
func TestGroupMembershipFailsClosed(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	g := &fakeGroups{members: map[string][]string{"S1": {"URAVI", "UROSA"}}}
	r := newReviewerSet([]string{"URITA", "S1"}, g, 2*time.Minute, func() time.Time { return now })
	ctx := context.Background()
	allowed := func(user string) (bool, error) { return r.allowed(ctx, user, nil) }

	if ok, err := allowed("URAVI"); !ok || err != nil {
		t.Fatalf("a group member is refused: %v %v", ok, err)
	}
	if ok, _ := allowed("UOLGA"); ok {
		t.Error("someone outside the group may decide")
	}
	g.members["S1"] = []string{"UROSA"} // Ravi leaves the group
	now = now.Add(time.Minute)
	if ok, _ := allowed("URAVI"); !ok {
		t.Error("within the time to live the cached list is used (no Slack call per click)")
	}
	now = now.Add(90 * time.Second)
	if ok, _ := allowed("URAVI"); ok {
		t.Error("removed from the group, still deciding after the time to live")
	}
	g.down = true
	now = now.Add(3 * time.Minute)
	ok, err := allowed("UROSA")
	if ok || err == nil {
		t.Errorf("with the directory down an old list was trusted: %v %v", ok, err)
	}
	if ok, err := allowed("URITA"); !ok || err != nil {
		t.Errorf("a reviewer named by id does not need the directory: %v %v", ok, err)
	}
}

// slowGroups is a user-group directory that answers only when released, counting its calls.
type slowGroups struct {
	release chan struct{}
	calls   atomic.Int32
}

func (g *slowGroups) GroupMembers(context.Context, string) ([]string, error) {
	g.calls.Add(1)
	<-g.release
	return []string{"URAVI"}, nil
}

// TestGroupLookupsShareOneCall: when a group's list has expired and many clicks need it at once
// (month end), Slack is asked once, and every click gets its answer.
func TestGroupLookupsShareOneCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &slowGroups{release: make(chan struct{})}
		r := newReviewerSet([]string{"S1"}, g, 2*time.Minute, time.Now)
		const clicks = 20
		results := make(chan bool, clicks)
		for range clicks {
			go func() {
				ok, _ := r.allowed(context.Background(), "URAVI", nil)
				results <- ok
			}()
		}
		synctest.Wait() // every click waits for the one lookup
		if n := g.calls.Load(); n != 1 {
			t.Fatalf("%d lookups of one group at once, want 1", n)
		}
		close(g.release)
		for range clicks {
			if !<-results {
				t.Error("a click waiting on the shared lookup was refused")
			}
		}
		if n := g.calls.Load(); n != 1 {
			t.Errorf("%d lookups in all, want 1", n)
		}
	})
}
