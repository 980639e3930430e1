package openai

import (
	"context"
	"errors"
	"net/http"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"
)

// TestAzureDetection: a base URL on an Azure OpenAI resource (host *.openai.azure.com) uses
// Azure's scheme, as the README's Azure setup says; any other URL, even one that mentions the
// domain elsewhere, is an OpenAI-compatible server. To add a case, add a row.
func TestAzureDetection(t *testing.T) {
	tests := []struct {
		base  string
		azure bool
	}{
		{"https://contoso.openai.azure.com/", true},
		{"https://contoso.openai.azure.com", true},
		{"https://Contoso.OpenAI.Azure.com/", true},
		{"https://contoso.openai.azure.com:443/", true},
		{"", false},
		{"https://api.openai.com/v1", false},
		{"http://127.0.0.1:11434/v1", false},
		{"https://contoso.goopenai.azure.com/", false},
		{"https://openai.azure.com.evil.example/", false},
		{"https://proxy.example/?upstream=x.openai.azure.com", false},
		{"https://x.openai.azure.com@proxy.example/", false},
	}
	for _, tt := range tests {
		if got := isAzure(tt.base); got != tt.azure {
			t.Errorf("isAzure(%q) = %v, want %v", tt.base, got, tt.azure)
		}
	}
}

// TestAzureClientUsesAzureScheme: with an Azure base URL the request goes to the deployment's
// path with the api-key header, not to /chat/completions with a bearer token.
func TestAzureClientUsesAzureScheme(t *testing.T) {
	var got *http.Request
	record := roundTripper(func(r *http.Request) (*http.Response, error) {
		got = r
		return nil, errors.New("recorded")
	})
	client, _ := newClient(Config{APIKey: "az-key", BaseURL: "https://contoso.openai.azure.com/", Model: "expenses-gpt",
		Tries: 1, Client: &http.Client{Transport: record}})
	client.CreateChatCompletion(context.Background(), goopenai.ChatCompletionRequest{Model: "expenses-gpt",
		Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "hi"}}})
	if got == nil {
		t.Fatal("no request was made")
	}
	if got.URL.Host != "contoso.openai.azure.com" || got.URL.Path != "/openai/deployments/expenses-gpt/chat/completions" ||
		got.URL.Query().Get("api-version") == "" || got.Header.Get("api-key") != "az-key" || got.Header.Get("Authorization") != "" {
		t.Errorf("request = %s, api-key %q, Authorization %q", got.URL, got.Header.Get("api-key"), got.Header.Get("Authorization"))
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
