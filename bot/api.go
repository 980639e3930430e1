package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/api"
	"github.com/slack-go/slack"
)

// serveHTTP serves the approval API on the listener of Options.HTTP, if any, until ctx ends or
// the returned stop is called. Then it stops taking requests, ends long polls at once (they
// answer with the expense as it stands), lets requests in flight finish for up to the drain
// timeout, closes what is left, and stop returns once the server has.
func (b *Bot) serveHTTP(ctx context.Context) (stop func()) {
	if b.ln == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", b.health())
	if b.metrics != nil {
		mux.Handle("GET /metrics", b.metrics.Handler())
	}
	mux.Handle("/", b.apiHandler)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second, // the longest ?wait is 60 s
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(b.log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(b.apiServer.Drain)
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(b.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Error("approval API stopped serving", "err", err)
		}
	}()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		drain, cancelDrain := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.DrainTimeout)
		defer cancelDrain()
		if err := srv.Shutdown(drain); err != nil {
			b.log.Warn("approval API requests cancelled at the drain timeout", "timeout", b.cfg.DrainTimeout)
			srv.Close()
		}
		<-served
	}()
	b.log.Info("approval API listening", "addr", b.ln.Addr().String())
	return func() { cancel(); <-stopped }
}

// health answers /healthz for a supervisor: 200 when Socket Mode is connected and the database
// answers, 503 otherwise, saying which is wrong.
func (b *Bot) health() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := map[string]string{"slack": "connected", "database": "ok"}
		code := http.StatusOK
		if !b.connected.Load() {
			status["slack"], code = "not connected", http.StatusServiceUnavailable
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if b.store == nil || b.store.Ping(ctx) != nil {
			status["database"], code = "not answering", http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(status)
	})
}

func newAPI(st api.Store, dir api.Directory, cfg api.Config, log *slog.Logger) *api.Server {
	return api.New(st, dir, cfg, log)
}

// directory finds people and messages for the approval API through the Web API
// (users.lookupByEmail, users.info, chat.getPermalink).
type directory struct{ api *slack.Client }

func (d directory) UserByEmail(ctx context.Context, email string) (string, error) {
	u, err := d.api.GetUserByEmailContext(ctx, email)
	switch {
	case err != nil && slackErr(err) == "users_not_found":
		return "", expensebot.Errorf(expensebot.ENOTFOUND, "No one in the Slack workspace has the address %s.", email)
	case err != nil:
		return "", fmt.Errorf("users.lookupByEmail: %s", slackErr(err))
	case u.Deleted || u.IsBot:
		return "", expensebot.Errorf(expensebot.ENOTFOUND, "%s belongs to a deactivated account or a bot, not a person who can claim expenses.", email)
	}
	return u.ID, nil
}

func (d directory) User(ctx context.Context, id string) error {
	u, err := d.api.GetUserInfoContext(ctx, id)
	switch {
	case err != nil && slackErr(err) == "user_not_found":
		return expensebot.Errorf(expensebot.ENOTFOUND, "There is no Slack user %s in this workspace.", id)
	case err != nil:
		return fmt.Errorf("users.info: %s", slackErr(err))
	case u.Deleted || u.IsBot:
		return expensebot.Errorf(expensebot.ENOTFOUND, "%s is a deactivated account or a bot, not a person who can claim expenses.", id)
	}
	return nil
}

func (d directory) Permalink(ctx context.Context, channel, ts string) (string, error) {
	return d.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
}
