package approval

import (
	"context"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
)

// Notices are delivered in lanes, one per conversation: an approvals channel, a submitter's DM,
// or the callbacks. Each lane delivers in claim order (so cards appear in submission order), is
// paced to Slack's limit of about one message a second per conversation (a short burst allowed),
// and waits out a 429's Retry-After on its own: a busy approvals channel at month end never delays
// the DMs, and a 429 on one channel or method never stalls the others. The claimer keeps claiming
// while lanes drain, up to maxInFlight notices; their leases are renewed together, and what got
// through is recorded in batches.

const (
	maxInFlight  = 1024                  // notices claimed and not yet recorded, per instance
	maxSending   = 16                    // Web API calls at once, across lanes
	laneBurst    = 3                     // posts a conversation may take at once before pacing
	recordEvery  = 20 * time.Millisecond // how long a delivered notice waits to be recorded with others
	recordBatch  = 64
	paceInterval = time.Second // Slack: about one message per second per conversation
)

// dispatcher runs the lanes of one Service.Run.
type dispatcher struct {
	s        *Service
	work     context.Context // outlives shutdown until the drain timeout
	interval time.Duration   // pacing per conversation; 0: only Retry-After paces

	mu       sync.Mutex
	lanes    map[string]*lane
	inFlight map[int64]bool               // claimed, not yet recorded or handed back
	gates    map[string]time.Time         // Web API method → paused until (a 429 for the whole method)
	tiers    map[string]*bucket           // Web API method → its rate tier, for methods limited per workspace
	done     []expensebot.Delivered       // delivered, not yet recorded
	carried  map[int64]expensebot.Expense // expense as routed, by the notice id of a DM or callback handed over with it
	stopping bool                         // shutdown: lanes start nothing new

	halt    chan struct{}  // closed at shutdown: a lane waiting out a pause stops waiting
	freed   chan struct{}  // room for more claims
	sending chan struct{}  // semaphore of Web API calls
	record  chan struct{}  // kicks the recorder
	lanesWG sync.WaitGroup // lane goroutines
}

// lane is one conversation's queue.
type lane struct {
	key     string
	queue   []expensebot.Notice
	running bool
	until   time.Time // paused until (Retry-After)
	tokens  float64   // pacing: posts it may make now
	refill  time.Time // when tokens was last topped up
}

func newDispatcher(s *Service, work context.Context) *dispatcher {
	return &dispatcher{s: s, work: work, lanes: map[string]*lane{}, inFlight: map[int64]bool{}, carried: map[int64]expensebot.Expense{}, gates: map[string]time.Time{},
		tiers: map[string]*bucket{"chat.update": newBucket(updatesPerMinute, tierBurst)},
		halt:  make(chan struct{}), freed: make(chan struct{}, 1), sending: make(chan struct{}, maxSending), record: make(chan struct{}, 1),
		interval: s.cfg.PostInterval}
}

// laneKey is the conversation a notice goes to.
func (d *dispatcher) laneKey(n expensebot.Notice) string {
	switch {
	case n.Kind == expensebot.NoticeCallback:
		return "callback"
	case n.Dest == "":
		return "conv:" + d.s.cfg.ApprovalsChannel
	}
	return "conv:" + n.Dest
}

// room is how many more notices may be claimed.
func (d *dispatcher) room() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maxInFlight - len(d.inFlight)
}

// add queues claimed notices in their lanes and starts the lanes that were idle.
func (d *dispatcher) add(ns []expensebot.Notice) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addLocked(ns)
}

// carry queues notices claimed as they were queued (see recordGroup), with the expenses they
// tell of as routed, by expense id. A DM or a callback tells the route's outcome, so it is drawn
// from that copy; a card is drawn from the expense as it is when posted. It reports false, and
// queues nothing, once the lanes are stopping.
func (d *dispatcher) carry(ns []expensebot.Notice, routed map[int64]expensebot.Expense) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		return false
	}
	for _, n := range ns {
		if n.Kind == expensebot.NoticeTellSubmitter || n.Kind == expensebot.NoticeCallback {
			d.carried[n.ID] = routed[n.ExpenseID]
		}
	}
	d.addLocked(ns)
	return true
}

// addLocked is add with d.mu held.
func (d *dispatcher) addLocked(ns []expensebot.Notice) {
	for _, n := range ns {
		d.inFlight[n.ID] = true
		k := d.laneKey(n)
		l := d.lanes[k]
		if l == nil {
			l = &lane{key: k, tokens: laneBurst, refill: time.Now()}
			d.lanes[k] = l
		}
		l.queue = append(l.queue, n)
		if !l.running {
			l.running = true
			d.lanesWG.Go(func() { d.run(l) })
		}
	}
}

// ids returns the notices in flight, for lease renewal.
func (d *dispatcher) ids() []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]int64, 0, len(d.inFlight))
	for id := range d.inFlight {
		out = append(out, id)
	}
	return out
}

// run delivers l's queue in order until it is empty (or shutdown), then ends; add starts it again.
func (d *dispatcher) run(l *lane) {
	for {
		d.mu.Lock()
		if len(l.queue) == 0 || d.stopping {
			l.running = false
			if len(l.queue) == 0 {
				delete(d.lanes, l.key)
			}
			d.mu.Unlock()
			return
		}
		n := l.queue[0]
		var routed *expensebot.Expense
		if e, ok := d.carried[n.ID]; ok {
			routed = &e
		}
		wait := d.waitFor(l, time.Now())
		d.mu.Unlock()
		if wait > 0 {
			select {
			case <-time.After(wait):
				continue // re-check: shutdown, or another pause
			case <-d.halt:
				continue // stopping: the loop hands the notice back
			case <-d.work.Done():
				d.mu.Lock()
				d.stopping = true
				d.mu.Unlock()
				continue
			}
		}
		d.sending <- struct{}{}
		delivered, ok, retry, method := d.s.deliverOne(d.work, n, routed)
		<-d.sending

		d.mu.Lock()
		if retry > 0 {
			// Slack asked this conversation, or this method, to wait: the notice stays first
			// in its lane, so order holds, and nothing is written to the database for it.
			if method == "chat.postMessage" {
				l.until = time.Now().Add(retry)
			} else {
				d.gates[method] = time.Now().Add(retry)
			}
			d.mu.Unlock()
			continue
		}
		l.queue = l.queue[1:]
		delete(d.carried, n.ID)
		if ok {
			d.done = append(d.done, delivered)
		} else {
			delete(d.inFlight, n.ID) // recorded as failed, retried or blocked by deliverOne
			d.signalFreed()
		}
		full := len(d.done) >= recordBatch
		d.mu.Unlock()
		if full {
			d.kickRecorder() // else the recorder's tick takes it within recordEvery
		}
	}
}

// waitFor is how long l must wait before its next post; d.mu is held. It spends a pacing token
// when it returns 0.
func (d *dispatcher) waitFor(l *lane, now time.Time) time.Duration {
	if l.until.After(now) {
		return l.until.Sub(now)
	}
	n := l.queue[0]
	if method := methodOf(n); method != "" {
		if until := d.gates[method]; until.After(now) {
			return until.Sub(now)
		}
	}
	paced := d.interval > 0 && l.key != "callback"
	if paced {
		l.tokens = min(laneBurst, l.tokens+now.Sub(l.refill).Seconds()/d.interval.Seconds())
		l.refill = now
		if l.tokens < 1 {
			return time.Duration((1 - l.tokens) * float64(d.interval))
		}
	}
	// The method's tier is spent last: a post the conversation must wait for spends none of it.
	if b := d.tiers[methodOf(n)]; b != nil && d.interval > 0 {
		if wait := b.take(now); wait > 0 {
			return wait
		}
	}
	if paced {
		l.tokens--
	}
	return 0
}

// methodOf is the Web API method a notice mostly calls, for method-wide pauses.
func methodOf(n expensebot.Notice) string {
	switch n.Kind {
	case expensebot.NoticeUpdateReview:
		return "chat.update"
	case expensebot.NoticeCallback:
		return ""
	}
	return "chat.postMessage"
}

func (d *dispatcher) signalFreed() {
	select {
	case d.freed <- struct{}{}:
	default:
	}
}

func (d *dispatcher) kickRecorder() {
	select {
	case d.record <- struct{}{}:
	default:
	}
}

// recordLoop writes what got through, in batches: every recordEvery (so a few deliveries share a
// record), or at once when a batch is full, until stop is closed and nothing is left.
func (d *dispatcher) recordLoop(stop <-chan struct{}) {
	t := time.NewTicker(recordEvery)
	defer t.Stop()
	for {
		select {
		case <-d.record:
		case <-t.C:
		case <-stop:
			d.flush()
			return
		}
		d.flush()
	}
}

func (d *dispatcher) flush() {
	d.mu.Lock()
	batch := d.done
	d.done = nil
	d.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	rec, cancel := context.WithTimeout(context.WithoutCancel(d.work), recordTimeout)
	defer cancel()
	if err := d.s.store.NoticesDone(rec, batch); err != nil {
		d.s.log.Error("notices done", "notices", len(batch), "err", err)
	}
	d.mu.Lock()
	for _, dl := range batch {
		delete(d.inFlight, dl.NoticeID)
	}
	d.mu.Unlock()
	d.signalFreed()
	// A recorded notice may let the next of its expense be claimed.
	d.s.kick()
}

// stop ends the lanes: nothing new starts, posts in flight finish; then what got through is
// recorded, and what was queued but not sent is handed back for any instance to take at once.
func (d *dispatcher) stop() []int64 {
	d.mu.Lock()
	d.stopping = true
	d.mu.Unlock()
	close(d.halt)
	d.lanesWG.Wait()
	d.mu.Lock()
	var left []int64
	for _, l := range d.lanes {
		for _, n := range l.queue {
			left = append(left, n.ID)
			delete(d.inFlight, n.ID)
			delete(d.carried, n.ID)
		}
	}
	d.lanes = map[string]*lane{}
	d.mu.Unlock()
	return left
}
