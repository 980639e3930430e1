// Package fakeopenai is an OpenAI-compatible Chat Completions server for tests and benchmarks: it
// speaks the real HTTP API on 127.0.0.1, records what it was asked, and answers as it is told,
// including errors, rate limits, slowness and log probabilities.
package fakeopenai

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Request is the part of a chat completion request the tests look at.
type Request struct {
	Model          string  `json:"model"`
	Temperature    float64 `json:"temperature"`
	LogProbs       bool    `json:"logprobs"`
	ResponseFormat struct {
		Type       string          `json:"type"`
		JSONSchema json.RawMessage `json:"json_schema"`
	} `json:"response_format"`
	Messages            []Message `json:"messages"`
	MaxCompletionTokens int       `json:"max_completion_tokens"`
	Authorization       string    `json:"-"`
}

// Message is one message of a request. Content is its text: a string, or the text parts of an
// array of parts; Images are the data or URLs of its image_url parts.
type Message struct {
	Role    string
	Content string
	Images  []string
}

// UnmarshalJSON reads content as a string or as an array of text and image_url parts, as the
// API accepts both.
func (m *Message) UnmarshalJSON(b []byte) error {
	var raw struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.Role = raw.Role
	if len(raw.Content) == 0 || raw.Content[0] != '[' {
		return json.Unmarshal(raw.Content, &m.Content)
	}
	var parts []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		ImageURL struct {
			URL string `json:"url"`
		} `json:"image_url"`
	}
	if err := json.Unmarshal(raw.Content, &parts); err != nil {
		return err
	}
	var texts []string
	for _, p := range parts {
		switch p.Type {
		case "text":
			texts = append(texts, p.Text)
		case "image_url":
			if p.ImageURL.URL == "" {
				return fmt.Errorf("image_url part without url")
			}
			m.Images = append(m.Images, p.ImageURL.URL)
		default:
			return fmt.Errorf("unknown content part %q", p.Type)
		}
	}
	m.Content = strings.Join(texts, "\n")
	return nil
}

// IsReceipt reports whether r asks to read a receipt: it carries an image.
func (r Request) IsReceipt() bool {
	for _, m := range r.Messages {
		if len(m.Images) > 0 {
			return true
		}
	}
	return false
}

// Reply writes one answer.
type Reply func(w http.ResponseWriter, r Request)

// Server is a running fake.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	replies  []Reply // consumed in order; the last one repeats
	receipts []Reply // the same, for requests that carry an image
	requests []Request
	limits   Limits
	rng      *rand.Rand
	req, tok bucket
	counts   Counts
	inFlight int
}

// New starts a server that approves everything with confidence 0.99 until told otherwise.
func New() *Server {
	s := &Server{replies: []Reply{Answer("approve", 0.99)}, receipts: []Reply{Receipt(Unreadable())}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL returns the base URL to give the client (OPENAI_BASE_URL).
func (s *Server) URL() string { return s.Server.URL + "/v1" }

// Reply sets the answers to give, in order; the last one repeats.
func (s *Server) Reply(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = replies
}

// ReplyReceipts sets the answers to requests that carry an image (receipts), in order; the last
// one repeats. Until set, every receipt is unreadable.
func (s *Server) ReplyReceipts(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receipts = replies
}

// Facts is what the fake reads on a receipt.
type Facts struct {
	IsReceipt  *bool   `json:"is_receipt,omitempty"` // nil: left out, as answers before it was asked
	Readable   bool    `json:"readable"`
	Merchant   string  `json:"merchant"`
	Date       string  `json:"date"`
	Total      string  `json:"total"`
	Currency   string  `json:"currency"`
	Confidence float64 `json:"confidence"`
}

// Unreadable are the facts of a receipt the model cannot read.
func Unreadable() Facts { return Facts{Merchant: "", Confidence: 0.1} }

// NotAReceipt are the facts of a picture that is no receipt at all: a photo of a cat.
func NotAReceipt() Facts {
	no := false
	return Facts{IsReceipt: &no, Confidence: 0.9}
}

// Receipt replies with the facts of a receipt, as a vision model following the schema would.
func Receipt(f Facts) Reply {
	b, _ := json.Marshal(f)
	return Content(string(b), nil)
}

// Requests returns what the server was asked so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	var req Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body")
		return
	}
	req.Authorization = r.Header.Get("Authorization")
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.counts.Requests++
	delay, refuse := s.admitLocked(w, req)
	if refuse != nil {
		s.counts.Throttled++
		s.mu.Unlock()
		refuse(w, req)
		return
	}
	queue := &s.replies
	if req.IsReceipt() {
		queue = &s.receipts
	}
	reply := (*queue)[0]
	if len(*queue) > 1 {
		*queue = (*queue)[1:]
	}
	s.inFlight++
	s.counts.MaxInFlight = max(s.counts.MaxInFlight, s.inFlight)
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	reply(w, req)
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "server_error"}})
}

// Error answers with an OpenAI-style error.
func Error(status int, msg string) Reply {
	return func(w http.ResponseWriter, _ Request) { writeError(w, status, msg) }
}

// RateLimited answers 429 with Retry-After in seconds.
func RateLimited(retryAfter int) Reply {
	return func(w http.ResponseWriter, _ Request) {
		w.Header().Set("Retry-After", fmt.Sprint(retryAfter))
		writeError(w, http.StatusTooManyRequests, "Rate limit reached")
	}
}

// Slow waits d (or until the client gives up) before giving next.
func Slow(d time.Duration, next Reply) Reply {
	return func(w http.ResponseWriter, r Request) {
		time.Sleep(d)
		next(w, r)
	}
}

// Answer replies with a well-formed assessment and no log probabilities.
func Answer(decision string, confidence float64, flags ...string) Reply {
	return Content(answerJSON(decision, confidence, flags), nil)
}

// AnswerWithLogprob replies with an assessment whose decision token has probability p.
func AnswerWithLogprob(decision string, claimed, p float64) Reply {
	content := answerJSON(decision, claimed, nil)
	return Content(content, tokens(content, decision, p))
}

func answerJSON(decision string, confidence float64, flags []string) string {
	if flags == nil {
		flags = []string{}
	}
	f, _ := json.Marshal(flags)
	// Keys in the order the schema gives them, as real models write them.
	return fmt.Sprintf(`{"decision":%q,"confidence":%v,"reasons":["looks like %s"],"flags":%s}`, decision, confidence, decision, f)
}

// tokens splits content the way a tokenizer might, giving the decision's first token probability p
// and every other token near certainty.
func tokens(content, decision string, p float64) []map[string]any {
	var out []map[string]any
	add := func(tok string, lp float64) {
		if tok != "" {
			out = append(out, map[string]any{"token": tok, "logprob": lp, "top_logprobs": []any{}})
		}
	}
	at := strings.Index(content, `"decision":"`) + len(`"decision":"`)
	add(content[:at], -0.0001)
	add(decision[:min(3, len(decision))], math.Log(p))
	add(content[at+min(3, len(decision)):], -0.0001)
	return out
}

// Content replies with raw message content, which need not be valid JSON, and optional logprobs.
func Content(content string, logprobs []map[string]any) Reply {
	return func(w http.ResponseWriter, r Request) {
		choice := map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content}}
		if logprobs != nil {
			choice["logprobs"] = map[string]any{"content": logprobs}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "created": time.Now().Unix(), "model": r.Model + "-fake",
			"choices": []any{choice},
			"usage":   map[string]any{"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
		})
	}
}
