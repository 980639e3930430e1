package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSandboxServesTheAPI: the curl example of docs/api.md, offline: the sandbox prints a token, and an
// expense submitted with it shows up as a card in the sandbox's approvals channel.
func TestSandboxServesTheAPI(t *testing.T) {
	page, line := startSandboxAPI(t)
	m := regexp.MustCompile(`API=(\S+) TOKEN=(\S+) SECRET=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("API line = %q", line)
	}
	req, _ := http.NewRequest("POST", m[1]+"/v1/expenses", strings.NewReader(`{"submitter_email":"alice@example.com","amount":"2500.00","description":"Conference travel","category":"travel"}`))
	req.Header.Set("Authorization", "Bearer "+m[2])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit = %d", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := http.Get(page + "api/state?user=URITA")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if strings.Contains(string(b), "Conference travel") && strings.Contains(string(b), "approve:") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no card in the sandbox page: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
