package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/expensebot/expensebot/policy/openai"
	goopenai "github.com/sashabaranov/go-openai"
)

// Model is the OpenAI-compatible model the AI check and the receipt reader use.
type Model struct {
	APIKey  string   // "": the AI check is off
	BaseURL string   // "": OpenAI
	Models  []string // the assessing model, and the receipt-reading one when different
	Timeout time.Duration
	Client  *http.Client
}

// checkModel makes one chat call of one output token to each model; without a key it says the
// AI check is off. At start it only says that: a call at every start would cost money.
func checkModel(ctx context.Context, s Setup) []Finding {
	m := s.Model
	if m.APIKey == "" {
		return []Finding{{Check: "model", Status: Info,
			Detail: "offline: no OPENAI_API_KEY, so the AI check is off and every expense goes to a reviewer",
			Fix:    "to have small clear expenses approved automatically, set OPENAI_API_KEY (and OPENAI_BASE_URL for another provider)"}}
	}
	if s.Start {
		return nil
	}
	var out []Finding
	seen := map[string]bool{}
	for _, model := range m.Models {
		if model == "" || seen[model] {
			continue
		}
		seen[model] = true
		out = append(out, pingModel(ctx, s, model))
	}
	return out
}

func pingModel(ctx context.Context, s Setup, model string) Finding {
	m := s.Model
	where := providerURL(m.BaseURL)
	f := Finding{Check: fmt.Sprintf("model %s at %s", model, where), Status: Problem}
	var oc goopenai.ClientConfig
	// The same choice as the AI check makes (policy/openai), so that this call goes where its do.
	if openai.IsAzure(m.BaseURL) {
		oc = goopenai.DefaultAzureConfig(m.APIKey, m.BaseURL)
	} else {
		oc = goopenai.DefaultConfig(m.APIKey)
		if m.BaseURL != "" {
			oc.BaseURL = strings.TrimSuffix(m.BaseURL, "/")
		}
	}
	if m.Client != nil {
		oc.HTTPClient = m.Client
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = s.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := goopenai.NewClientWithConfig(oc).CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{
		Model:               model,
		Messages:            []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Say OK."}},
		MaxCompletionTokens: 1,
	})
	var apiErr *goopenai.APIError
	var reqErr *goopenai.RequestError
	status := 0
	switch {
	case errors.As(err, &apiErr):
		status = apiErr.HTTPStatusCode
	case errors.As(err, &reqErr):
		status = reqErr.HTTPStatusCode
	}
	switch {
	case err == nil:
		f.Status, f.Detail = OK, "answers"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// The provider's message is left out: OpenAI quotes part of a wrong key in it.
		f.Detail = fmt.Sprintf("the provider refuses OPENAI_API_KEY (HTTP %d)", status)
		f.Fix = "create a new API key with the provider and set OPENAI_API_KEY to it; with OPENAI_BASE_URL set, it must be a key that provider issued"
	case status == http.StatusNotFound:
		f.Detail = "the provider does not know this model (HTTP 404)"
		f.Fix = "set OPENAI_MODEL (and OPENAI_VISION_MODEL, if set) to a model this provider serves, and check OPENAI_BASE_URL (it usually ends in /v1)"
	case status == http.StatusTooManyRequests:
		f.Status = Warning
		f.Detail = "the provider is rate-limiting this key or its quota is used up (HTTP 429): expenses go to a reviewer meanwhile"
		f.Fix = "check the account's quota and billing with the provider"
	case status != 0:
		f.Detail = fmt.Sprintf("the call failed (HTTP %d)", status)
		if apiErr != nil && apiErr.Message != "" {
			f.Detail += ": " + apiErr.Message
		}
		f.Fix = "check OPENAI_BASE_URL and OPENAI_MODEL against the provider's documentation"
	case ctx.Err() != nil:
		f.Detail = fmt.Sprintf("no answer within %s", timeout)
		f.Fix = "check OPENAI_BASE_URL, this machine's network and proxy; for a slow local model, raise EXPENSEBOT_AI_TIMEOUT"
	default:
		f.Detail = fmt.Sprintf("no answer: %v", err)
		f.Fix = "check OPENAI_BASE_URL, this machine's network and its proxy settings (HTTPS_PROXY)"
	}
	return f
}

// providerURL is the base URL fit to show: scheme, host and path, without a user, password or
// query that might hold a key.
func providerURL(base string) string {
	if base == "" {
		return "https://api.openai.com/v1"
	}
	u, err := url.Parse(base)
	if err != nil {
		return "OPENAI_BASE_URL"
	}
	return u.Scheme + "://" + u.Host + u.Path
}
