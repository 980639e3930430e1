package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
)

// Notices are delivered in lanes, one per destination: an approvals channel, a submitter's DM,
// or one callback receiver (by host). Each lane delivers in claim order (so cards appear in submission order), is
// paced by the Pacer, and waits out a Retry-After on its own: a busy approvals channel at month
// end never delays the DMs, and a 429 on one channel or method never stalls the others. The
// claimer keeps claiming while lanes drain, up to maxInFlight notices; their leases are renewed
// together, and what got through is recorded in batches.

const (
	maxInFlight = 1024                  // notices claimed and not yet recorded, per instance
	maxSending  = 16                    // sends at once, across lanes
	recordEvery = 20 * time.Millisecond // how long a delivered notice waits to be recorded with others
	recordBatch = 64
)

// dispatcher runs the lanes of one Deliverer.Run.
type dispatcher struct {
	dl    *Deliverer
	work  context.Context // outlives shutdown until the drain timeout
	pacer Pacer           // nil: only Retry-After paces

	mu       sync.Mutex
	lanes    map[string]*lane
	inFlight map[int64]bool               // claimed, not yet recorded or handed back
	done     []expensebot.Delivered       // delivered, not yet recorded
	carried  map[int64]expensebot.Expense // expense as routed, by the notice id of a DM or callback handed over with it
	stopping bool                         // shutdown: lanes start nothing new

	halt    chan struct{}  // closed at shutdown: a lane waiting out a pause stops waiting
	freed   chan struct{}  // room for more claims
	sending chan struct{}  // semaphore of sends
	record  chan struct{}  // kicks the recorder
	lanesWG sync.WaitGroup // lane goroutines
}

// lane is one destination's queue.
type lane struct {
	key     string
	conv    string // the conversation it posts to; "" for the callbacks, which the Pacer does not pace
	queue   []expensebot.Notice
	running bool
	until   time.Time // paused until (Retry-After), when no Pacer keeps the pause
}

func newDispatcher(dl *Deliverer, work context.Context) *dispatcher {
	return &dispatcher{dl: dl, work: work, pacer: dl.cfg.Pacer, lanes: map[string]*lane{}, inFlight: map[int64]bool{}, carried: map[int64]expensebot.Expense{},
		halt: make(chan struct{}), freed: make(chan struct{}, 1), sending: make(chan struct{}, maxSending), record: make(chan struct{}, 1)}
}

// laneOf is the lane a notice goes to, and the conversation it posts to.
func (d *dispatcher) laneOf(n expensebot.Notice) (key, conv string) {
	switch {
	case n.Kind == expensebot.NoticeCallback:
		// One lane per receiver: a slow or dead receiver delays only its own callbacks.
		return "callback:" + n.Dest, ""
	case n.Dest == "":
		return "conv:" + d.dl.cfg.ApprovalsChannel, d.dl.cfg.ApprovalsChannel
	}
	return "conv:" + n.Dest, n.Dest
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

// carry queues notices claimed as they were queued, with the expenses they tell of as routed, by
// expense id. A DM or a callback tells the route's outcome, so it is drawn from that copy; a card
// is drawn from the expense as it is when posted. It reports false, and queues nothing, once the
// lanes are stopping.
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
		k, conv := d.laneOf(n)
		l := d.lanes[k]
		if l == nil {
			l = &lane{key: k, conv: conv}
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
			t := time.NewTimer(wait)
			select {
			case <-t.C:
				continue // re-check: shutdown, or another pause
			case <-d.halt:
				t.Stop()
				continue // stopping: the loop hands the notice back
			case <-d.work.Done():
				t.Stop()
				d.mu.Lock()
				d.stopping = true
				d.mu.Unlock()
				continue
			}
		}
		d.sending <- struct{}{}
		delivered, ok, retry, method := d.dl.deliverOne(d.work, n, routed)
		<-d.sending

		d.mu.Lock()
		if retry > 0 {
			// The platform asked this conversation, or this method, to wait: the notice stays
			// first in its lane, so order holds, and nothing is written to the database for it.
			if d.pacer != nil && l.conv != "" {
				d.pacer.Pause(l.conv, method, retry, time.Now())
			} else {
				l.until = time.Now().Add(retry)
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

// waitFor is how long l must wait before its next send; d.mu is held. The Pacer spends the
// send's slot when it returns 0.
func (d *dispatcher) waitFor(l *lane, now time.Time) time.Duration {
	if l.until.After(now) {
		return l.until.Sub(now)
	}
	if d.pacer == nil || l.conv == "" {
		return 0
	}
	return d.pacer.Wait(l.conv, l.queue[0], now)
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
	if err := d.dl.store.NoticesDone(rec, batch); err != nil {
		d.dl.log.Error("notices done", "notices", len(batch), "err", err)
	}
	d.mu.Lock()
	for _, dn := range batch {
		delete(d.inFlight, dn.NoticeID)
	}
	d.mu.Unlock()
	d.signalFreed()
	// A recorded notice may let the next of its expense be claimed.
	d.dl.Kick()
}

// stop ends the lanes: nothing new starts, sends in flight finish; then what got through is
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
