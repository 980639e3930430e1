// Package web is expensebot's HTTP host: the health checks, the metrics and, when clients are
// configured, the approval API, on one or two listeners. The listener of EXPENSEBOT_HTTP_ADDR
// serves the API when there is one, and then answers anonymous traffic only with the health
// checks and openapi.json, and /metrics only to a client's token; without the API, and on the
// listener of EXPENSEBOT_METRICS_ADDR, it is an internal port where the health checks and the
// metrics are open.
//
// Nothing anonymous costs the database: /readyz and the gauges of /metrics read what a
// background probe, owned by [Host.Run], last found.
package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/metrics"
)

// Pinger is the database, as the readiness probe sees it (*store.DB has it).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options is what the host serves.
type Options struct {
	Log          *slog.Logger
	Connected    func() bool      // Slack's Socket Mode is connected (*bot.Bot's Connected)
	DB           Pinger           // probed in the background for /readyz
	Metrics      *metrics.Metrics // nil: no /metrics
	API          http.Handler     // the approval API; nil: none
	Drain        func()           // called as the API's listener begins to shut down (ends long polls)
	Clients      []api.Client     // whose token may read /metrics on the API's listener
	ProbeEvery   time.Duration    // how often the database is probed and the gauges refreshed (default 5s)
	DrainTimeout time.Duration    // how long requests in flight may finish at shutdown (default 25s)
}

// Host serves Options on listeners. Its handlers are safe for concurrent use.
type Host struct {
	o       Options
	dbOK    atomic.Bool
	tokens  [][32]byte // SHA-256 of the clients' tokens, compared in constant time
	probeMu sync.Mutex
}

// New returns a host for o.
func New(o Options) *Host {
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = 5 * time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 25 * time.Second
	}
	if o.Connected == nil {
		o.Connected = func() bool { return false }
	}
	h := &Host{o: o}
	for _, c := range o.Clients {
		h.tokens = append(h.tokens, sha256.Sum256([]byte(c.Token)))
	}
	return h
}

// Public is the handler of the API's listener: the approval API, the health checks, and /metrics
// for a client's token. Without an API it is [Host.Internal].
func (h *Host) Public() http.Handler {
	if h.o.API == nil {
		return h.Internal()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	if h.o.Metrics != nil {
		mux.Handle("GET /metrics", h.authorized(h.o.Metrics.Handler()))
	}
	mux.Handle("/", h.o.API)
	return mux
}

// Internal is the handler of an internal port: the health checks and /metrics, without a token.
func (h *Host) Internal() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	if h.o.Metrics != nil {
		mux.Handle("GET /metrics", h.o.Metrics.Handler())
	}
	return mux
}

// authorized lets through requests bearing one of the clients' tokens; others get a 401.
//
// Any client may read the metrics: a check of a read role belongs here once clients have roles.
func (h *Host) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		presented, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && h.known(strings.TrimSpace(presented)) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="expensebot"`)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("/metrics on the approval API's listener needs a client's token (Authorization: Bearer …); or serve the metrics on EXPENSEBOT_METRICS_ADDR\n"))
	})
}

func (h *Host) known(token string) bool {
	if token == "" {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	found := 0
	for _, t := range h.tokens {
		found |= subtle.ConstantTimeCompare(sum[:], t[:])
	}
	return found == 1
}

// healthz is liveness: 200 whenever the process serves requests, so that a supervisor restarts
// only a process that hangs. The body says what /readyz would, for a person.
func (h *Host) healthz(w http.ResponseWriter, r *http.Request) {
	status, _ := h.readiness()
	status["status"] = "alive"
	writeJSON(w, http.StatusOK, status)
}

// readyz is readiness: Socket Mode is connected and the database answered the last probe. 503
// says which is wrong.
func (h *Host) readyz(w http.ResponseWriter, r *http.Request) {
	status, ready := h.readiness()
	code := http.StatusOK
	if !ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, status)
}

// readiness is what the last probe found, from memory.
func (h *Host) readiness() (map[string]string, bool) {
	status, ready := map[string]string{"slack": "connected", "database": "ok"}, true
	if !h.o.Connected() {
		status["slack"], ready = "not connected", false
	}
	if !h.dbOK.Load() {
		status["database"], ready = "not answering", false
	}
	return status, ready
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// probe pings the database and refreshes the metrics' gauges, once.
func (h *Host) probe(ctx context.Context) {
	h.probeMu.Lock()
	defer h.probeMu.Unlock()
	ok := false
	if h.o.DB != nil {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok = h.o.DB.Ping(pctx) == nil
		cancel()
	}
	h.dbOK.Store(ok)
	h.o.Metrics.Refresh(ctx)
}

// Listener is one listener and whether it is the API's (public) or an internal port.
type Listener struct {
	net.Listener
	Public bool
}

// Run serves on the listeners, and probes in the background, until ctx ends. Then it stops
// taking requests, ends the API's long polls, lets requests in flight finish for up to the drain
// timeout, closes what is left, and returns once every server and the probe have returned.
func (h *Host) Run(ctx context.Context, listeners ...Listener) {
	var wg sync.WaitGroup
	h.probe(ctx) // so that /readyz is right from the first request
	wg.Go(func() {
		t := time.NewTicker(h.o.ProbeEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				h.probe(ctx)
			}
		}
	})
	for _, ln := range listeners {
		handler := h.Internal()
		if ln.Public {
			handler = h.Public()
		}
		srv := &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      90 * time.Second, // the longest ?wait is 60 s
			IdleTimeout:       time.Minute,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          slog.NewLogLogger(h.o.Log.Handler(), slog.LevelWarn),
		}
		if ln.Public && h.o.Drain != nil {
			srv.RegisterOnShutdown(h.o.Drain)
		}
		served := make(chan struct{})
		wg.Go(func() {
			defer close(served)
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				h.o.Log.Error("HTTP listener stopped serving", "addr", ln.Addr().String(), "err", err)
			}
		})
		wg.Go(func() {
			<-ctx.Done()
			drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.o.DrainTimeout)
			defer cancel()
			if err := srv.Shutdown(drain); err != nil {
				h.o.Log.Warn("HTTP requests cancelled at the drain timeout", "addr", ln.Addr().String(), "timeout", h.o.DrainTimeout)
				srv.Close()
			}
			<-served
		})
		if ln.Public && h.o.API != nil {
			h.o.Log.Info("approval API listening", "addr", ln.Addr().String(), "serves", "the approval API, /healthz, /readyz, /metrics with a client's token")
		} else {
			h.o.Log.Info("health and metrics listening", "addr", ln.Addr().String(), "serves", "/healthz, /readyz, /metrics")
		}
	}
	wg.Wait()
}
