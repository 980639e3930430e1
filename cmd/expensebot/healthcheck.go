package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// healthcheck asks a running expensebot's /healthz and fails unless it answers 200: a container
// image has no curl, so its HEALTHCHECK runs the binary itself. The address is --url, or else
// EXPENSEBOT_METRICS_ADDR's or EXPENSEBOT_HTTP_ADDR's /healthz on this host.
func healthcheck(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	target := fs.String("url", "", "URL to ask; default: /healthz at EXPENSEBOT_METRICS_ADDR, else EXPENSEBOT_HTTP_ADDR")
	path := fs.String("path", "/healthz", "path to ask at the address from the environment: /healthz (alive) or /readyz (Slack and database)")
	timeout := Duration(3 * time.Second)
	fs.TextVar(&timeout, "timeout", timeout, "how long to wait for the answer")
	if err := parseFlags(fs, args, stdout, "healthcheck [--url URL | --path /readyz] [--timeout 3s]"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"healthcheck takes no arguments"}
	}
	url := *target
	if url == "" {
		addr := os.Getenv("EXPENSEBOT_METRICS_ADDR")
		if addr == "" {
			addr = os.Getenv("EXPENSEBOT_HTTP_ADDR")
		}
		if addr == "" {
			return errors.New("healthcheck: set EXPENSEBOT_HTTP_ADDR or EXPENSEBOT_METRICS_ADDR (the address the bot serves /healthz on), or pass --url")
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("healthcheck: address %q is not host:port", addr)
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1" // a listener on every interface answers on loopback too
		}
		url = "http://" + net.JoinHostPort(host, port) + *path
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", url, resp.Status, body)
	}
	fmt.Fprintf(stdout, "%s: %s", url, body)
	return nil
}
