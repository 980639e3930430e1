package api

import (
	_ "embed"
	"fmt"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// OpenAPI is the API's description for integrators (OpenAPI 3.1), served at /v1/openapi.json. A
// test checks it against the handlers: every route it lists exists, and the answers match it.
//
//go:embed openapi.json
var OpenAPI []byte

// handler is the API bound to the workflow it submits to.
type handler struct {
	*Server
	flow Workflow
	mux  *http.ServeMux
}

// Handler returns the API as an http.Handler that submits expenses through flow.
func (s *Server) Handler(flow Workflow) http.Handler {
	h := &handler{Server: s, flow: flow, mux: http.NewServeMux()}
	h.routes()
	return h
}

// table is the whole HTTP surface of the API, in one place.
func (h *handler) table() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /v1/openapi.json":  h.openapi,
		"POST /v1/expenses":     h.authed(RoleSubmit, h.submit),
		"GET /v1/expenses":      h.authed(RoleRead, h.list),
		"GET /v1/expenses/{id}": h.authed(RoleRead, h.get),
		"POST /v1/payouts":      h.authed(RolePay, h.pay),
	}
}

func (h *handler) routes() {
	for pattern, fn := range h.table() {
		h.mux.HandleFunc(pattern, fn)
	}
}

// Routes lists the patterns the API serves ("METHOD /path"), sorted: what openapi.json must
// describe.
func Routes() []string {
	return slices.Sorted(maps.Keys((&handler{Server: &Server{}}).table()))
}

// allowed lists the methods of the route a path belongs to, for a 405 ("" when there is none).
func allowed(path string) string {
	switch {
	case path == "/v1/expenses":
		return "GET, POST"
	case path == "/v1/payouts":
		return "POST"
	case path == "/v1/openapi.json", strings.HasPrefix(path, "/v1/expenses/") && !strings.Contains(path[len("/v1/expenses/"):], "/"):
		return "GET"
	}
	return ""
}

// ServeHTTP answers one request and logs one line about it. A panic is answered 500 and logged
// with its stack; the server goes on.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	rec.Header().Set("X-Content-Type-Options", "nosniff")
	_, route := h.mux.Handler(r)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p) // net/http's way to abort a response: not ours to recover
			}
			h.log.ErrorContext(r.Context(), "panic in API request", "route", route, "panic", p, "stack", string(debug.Stack()))
			if !rec.wrote {
				fail(rec, http.StatusInternalServerError, codeInternal, "Something went wrong on our side; it has been logged. Please try again.")
			}
		}
		h.log.InfoContext(r.Context(), "api request", "method", r.Method, "route", route, "status", rec.status,
			"client", rec.client, "latency_ms", time.Since(start).Milliseconds())
	}()
	if route == "" {
		if allow := allowed(r.URL.Path); allow != "" {
			rec.Header().Set("Allow", allow)
			fail(rec, http.StatusMethodNotAllowed, codeMethod, fmt.Sprintf("%s is not served at %s; use %s.", r.Method, r.URL.Path, allow))
			return
		}
		fail(rec, http.StatusNotFound, codeNotFound, "There is nothing at "+r.URL.Path+"; see /v1/openapi.json.")
		return
	}
	h.mux.ServeHTTP(rec, r)
}

// authed admits a request that carries the token of a client holding role, within that
// client's rate.
func (h *handler) authed(role Role, fn func(http.ResponseWriter, *http.Request, *client)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := h.admit(w, r, role)
		if c == nil {
			return
		}
		fn(w, r, c)
	}
}

// admit returns the client whose token r carries, if it holds role and is within its rate.
// Otherwise it answers (401 without a valid token, 429 over the rate, 403 without the role) and
// returns nil.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, role Role) *client {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="expensebot"`)
		fail(w, http.StatusUnauthorized, codeUnauthorized, "Send the client's token as Authorization: Bearer <token>.")
		return nil
	}
	c := s.clients.find(strings.TrimSpace(token))
	if c == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="expensebot", error="invalid_token"`)
		fail(w, http.StatusUnauthorized, codeUnauthorized, "The token is not one of EXPENSEBOT_API_TOKENS.")
		return nil
	}
	if rec, ok := w.(*recorder); ok {
		rec.client = c.Name
	}
	if ok, wait := s.clients.take(c, time.Now()); !ok {
		rateLimited(w, wait)
		return nil
	}
	if !c.Can(role) {
		fail(w, http.StatusForbidden, codeForbidden, fmt.Sprintf("The client %q may not %s: its roles in EXPENSEBOT_API_TOKENS are %s (an operator grants more as %s:%s=<token>).",
			c.Name, role.doing(), c.roles(), c.Name, c.roles()|role))
		return nil
	}
	return c
}

// HasRole reports whether r carries the bearer token of a client that holds role, for a host
// that serves more than the API on the same listener (such as /metrics, with [RoleRead]). It
// answers nothing and spends none of the client's rate; [Server.RequireRole] does both.
func (s *Server) HasRole(r *http.Request, role Role) bool {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return false
	}
	c := s.clients.find(strings.TrimSpace(token))
	return c != nil && c.Can(role)
}

// RequireRole returns next guarded as the API's own routes are: a request without the token of
// a client holding role is answered 401 or 403, one over the client's rate 429 (each an RFC
// 9457 problem, like the API's), and only the rest reach next.
func (s *Server) RequireRole(role Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.admit(w, r, role) != nil {
			next.ServeHTTP(w, r)
		}
	})
}

func (h *handler) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(OpenAPI)
}

// recorder remembers what was answered, for the log line.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	client string
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
