package main

import (
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/web"
)

// This file is the approval API's part of the program: its variables' decoders and checks, and
// the listener serve opens.

// clients is EXPENSEBOT_API_TOKENS: name=token pairs. It is a secret: a problem names the
// entry by position and client name, never by its token.
type clients struct {
	secret
	list []api.Client
}

func (c *clients) Decode(s string) error {
	c.raw = strings.TrimSpace(s)
	list, err := api.ParseClients(strings.Split(c.raw, ","))
	if err != nil {
		c.fail("%v", err)
	}
	c.list = list
	return nil
}

// hosts is EXPENSEBOT_CALLBACK_ALLOW: host names or IP addresses, comma-separated.
type hosts struct {
	field
	list []string
}

func (h *hosts) Decode(s string) error {
	h.raw = strings.TrimSpace(s)
	h.list = splitList(h.raw)
	if err := api.ParseAllowList(h.list); err != nil {
		h.fail("%v", err)
	}
	return nil
}

// validateAPI checks what the API's variables need of each other.
func (e *environment) validateAPI() {
	// Without tokens, EXPENSEBOT_HTTP_ADDR serves only the health checks and the metrics.
	if addr := e.HTTPAddr.raw; addr != "" {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			e.HTTPAddr.fail("must be host:port, e.g. 127.0.0.1:8080")
		}
	}
	if addr := e.MetricsAddr.raw; addr != "" {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			e.MetricsAddr.fail("must be host:port, e.g. 127.0.0.1:9090")
		} else if _, port, _ := net.SplitHostPort(addr); addr == e.HTTPAddr.raw && port != "0" {
			e.MetricsAddr.fail("must differ from EXPENSEBOT_HTTP_ADDR (unset it to serve the metrics there)")
		}
	}
	if s := e.WebhookSecret.raw; s != "" && len(s) < api.MinTokenLength {
		e.WebhookSecret.fail("shorter than %d characters; use a long random one (openssl rand -hex 32)", api.MinTokenLength)
	}
}

// apiConfig is the approval API's configuration.
func apiConfig(cfg Config) api.Config {
	return api.Config{Clients: cfg.APIClients, WebhookSecret: api.Secret(cfg.WebhookSecret), CallbackAllow: cfg.CallbackAllow}
}

// listen opens the HTTP listeners: EXPENSEBOT_HTTP_ADDR's (the approval API when there are
// clients, else an internal port) and EXPENSEBOT_METRICS_ADDR's. Opening them before connecting
// to Slack makes a port in use fail the start, not a later request.
func listen(cfg Config, logger *slog.Logger) ([]web.Listener, error) {
	var out []web.Listener
	if cfg.HTTPAddr == "" && len(cfg.APIClients) > 0 {
		logger.Warn("EXPENSEBOT_API_TOKENS is set but EXPENSEBOT_HTTP_ADDR is not: the approval API is not served")
	}
	if cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("EXPENSEBOT_HTTP_ADDR=%q: %w", cfg.HTTPAddr, err)
		}
		out = append(out, web.Listener{Listener: ln, Public: len(cfg.APIClients) > 0})
		if len(cfg.APIClients) > 0 && cfg.WebhookSecret == "" {
			logger.Warn("EXPENSEBOT_WEBHOOK_SECRET is not set: the approval API refuses callback_url; clients can poll with ?wait")
		}
	}
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			return nil, fmt.Errorf("EXPENSEBOT_METRICS_ADDR=%q: %w", cfg.MetricsAddr, err)
		}
		out = append(out, web.Listener{Listener: ln})
	}
	return out, nil
}
