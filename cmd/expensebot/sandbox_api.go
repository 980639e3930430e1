package main

import (
	"crypto/rand"
	"fmt"
	"net"

	"github.com/expensebot/expensebot/api"
)

// defaultSandboxAPIAddr is where the sandbox serves the approval API unless EXPENSEBOT_HTTP_ADDR
// says otherwise; when the port is taken a free one is used instead.
const defaultSandboxAPIAddr = "127.0.0.1:8766"

// sandboxAPI sets the sandbox up to serve the approval API, so that the README's curl examples
// work offline: on EXPENSEBOT_HTTP_ADDR or defaultSandboxAPIAddr, with a fresh client token and
// webhook secret unless they are configured, and callbacks allowed to this machine. It returns
// the line to print, which shows the generated token and secret (never configured ones).
func sandboxAPI(cfg *Config) (string, error) {
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = defaultSandboxAPIAddr
		if ln, err := net.Listen("tcp", cfg.HTTPAddr); err == nil {
			ln.Close()
		} else if ln, err = net.Listen("tcp", "127.0.0.1:0"); err == nil {
			cfg.HTTPAddr = ln.Addr().String()
			ln.Close()
		} else {
			return "", fmt.Errorf("sandbox: no free port for the approval API: %w", err)
		}
	}
	// The page links the health checks and the metrics, which the API's listener keeps for
	// clients: they get an internal port of their own.
	if cfg.MetricsAddr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("sandbox: no free port for the health checks: %w", err)
		}
		cfg.MetricsAddr = ln.Addr().String()
		ln.Close()
	}
	token, secret := "(one of EXPENSEBOT_API_TOKENS)", "(EXPENSEBOT_WEBHOOK_SECRET)"
	if len(cfg.APIClients) == 0 {
		token = "sandbox-" + rand.Text()
		cfg.APIClients = []api.Client{{Name: "sandbox", Token: api.Secret(token)}}
	}
	if cfg.WebhookSecret == "" {
		secret = "whsec-" + rand.Text()
		cfg.WebhookSecret = secret
	}
	if len(cfg.CallbackAllow) == 0 {
		cfg.CallbackAllow = []string{"127.0.0.1", "::1", "localhost"}
	}
	return fmt.Sprintf("approval API: export API=http://%s TOKEN=%s SECRET=%s", cfg.HTTPAddr, token, secret), nil
}
