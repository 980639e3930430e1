package api

// Waiting is how many requests wait for a decision right now, across every client: the known
// point after which a test may decide, drain or send another request and know the wait saw it.
func (s *Server) Waiting() int {
	n := 0
	for _, c := range s.clients.list {
		c.mu.Lock()
		n += c.waits
		c.mu.Unlock()
	}
	return n
}
