package fakeslack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Ack is a bot's acknowledgement of one envelope.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage // the response payload, if any
	Latency    time.Duration   // from sending the envelope to reading the ack
}

// Errors from sending an envelope.
var (
	ErrNoAck        = errors.New("fakeslack: envelope not acknowledged in time")
	ErrNotConnected = errors.New("fakeslack: no Socket Mode connection")
)

type conn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex
	ready   bool // hello sent
	n       int  // its place in Connects: the nth connection greeted
}

func (c *conn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.writeRaw(b)
}

func (c *conn) writeRaw(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	ok := s.tickets[ticket]
	delete(s.tickets, ticket) // a Socket Mode URL is single-use
	s.mu.Unlock()
	if !ok {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws}
	s.mu.Lock()
	s.conns[c] = true
	n := len(s.conns)
	s.mu.Unlock()
	c.write(map[string]any{"type": "hello", "num_connections": n,
		"connection_info": map[string]any{"app_id": AppID},
		"debug_info":      map[string]any{"host": "fakeslack", "approximate_connection_time": 18060}})
	s.mu.Lock()
	c.ready = true
	s.connects++ // counted once greeted: a caller that saw the count grow can send at once
	c.n = s.connects
	s.changed()
	s.mu.Unlock()

	done := make(chan struct{})
	go s.ping(c, done)
	defer func() {
		close(done)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		ws.Close()
	}()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		s.mu.Lock()
		ch := s.acks[ack.EnvelopeID]
		s.mu.Unlock()
		if ch != nil {
			select {
			case ch <- Ack{EnvelopeID: ack.EnvelopeID, Payload: ack.Payload}:
			default:
			}
		}
	}
}

func (s *Server) ping(c *conn, done chan struct{}) {
	t := time.NewTicker(s.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			c.writeMu.Lock()
			c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(5*time.Second))
			c.writeMu.Unlock()
		}
	}
}

// Connections counts the open Socket Mode connections that have been greeted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.ready {
			n++
		}
	}
	return n
}

// Connects counts every Socket Mode connection ever opened and greeted, reconnections included.
func (s *Server) Connects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connects
}

// WaitConnected waits until at least n connections are open.
func (s *Server) WaitConnected(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for s.Connections() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("fakeslack: %d connections after %s, want %d", s.Connections(), timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// Disconnect sends every connection a disconnect message with reason (refresh_requested, warning,
// link_disabled) and closes it a moment later, as Slack does.
func (s *Server) Disconnect(reason string) {
	s.mu.Lock()
	var list []*conn
	for c := range s.conns {
		list = append(list, c)
	}
	s.mu.Unlock()
	for _, c := range list {
		c.write(map[string]any{"type": "disconnect", "reason": reason, "debug_info": map[string]any{"host": "fakeslack"}})
		time.AfterFunc(200*time.Millisecond, func() { c.ws.Close() })
	}
}

// pick returns a ready connection, round-robin by sequence.
// Pin sends every envelope to the nth connection greeted (as counted by Connects) while it is
// open, as Slack may; 0 spreads them again.
func (s *Server) Pin(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pinned = n
}

func (s *Server) pick() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ready []*conn
	for c := range s.conns {
		if c.ready {
			ready = append(ready, c)
		}
	}
	if len(ready) == 0 {
		return nil
	}
	for _, c := range ready {
		if s.pinned != 0 && c.n == s.pinned {
			return c
		}
	}
	s.seq++
	return ready[int(s.seq)%len(ready)]
}

// Send delivers one envelope of type typ and waits for its ack. Events API envelopes that are not
// acked in time are redelivered with retry_attempt increased, up to three retries, as Slack does.
func (s *Server) Send(typ string, payload any, retryAttempt int) (Ack, error) {
	s.mu.Lock()
	id := s.newID("env-")
	ch := make(chan Ack, 1)
	s.acks[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
	}()
	for attempt := retryAttempt; ; attempt++ {
		c := s.pick()
		if c == nil {
			return Ack{}, ErrNotConnected
		}
		env := map[string]any{"envelope_id": id, "type": typ, "payload": payload,
			"accepts_response_payload": typ != "events_api", "retry_attempt": attempt}
		if attempt > 0 {
			env["retry_reason"] = "timeout"
		}
		start := time.Now()
		if err := c.write(env); err != nil {
			return Ack{}, fmt.Errorf("fakeslack: send envelope: %w", err)
		}
		s.unacked.Add(1)
		select {
		case a := <-ch:
			s.unacked.Add(-1)
			a.Latency = time.Since(start)
			return a, nil
		case <-time.After(s.AckTimeout):
			s.unacked.Add(-1)
			if typ != "events_api" || attempt >= retryAttempt+3 {
				return Ack{}, ErrNoAck
			}
		}
	}
}

// Unacked counts the envelopes Send has written to a connection and is still waiting on the
// ack of.
func (s *Server) Unacked() int { return int(s.unacked.Load()) }

// SendRaw writes one text frame as it is to a connection, for hostile-payload tests. When the
// frame carries an envelope_id, WaitAck can wait for its ack.
func (s *Server) SendRaw(frame []byte, envelopeID string) (<-chan Ack, error) {
	c := s.pick()
	if c == nil {
		return nil, ErrNotConnected
	}
	ch := make(chan Ack, 1)
	if envelopeID != "" {
		s.mu.Lock()
		s.acks[envelopeID] = ch
		s.mu.Unlock()
	}
	return ch, c.writeRaw(frame)
}
