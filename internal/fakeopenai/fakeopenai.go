// Package fakeopenai is an OpenAI-compatible Chat Completions server for tests and benchmarks: it
// speaks the real HTTP API on 127.0.0.1, records what it was asked, and answers as it is told,
// including errors, rate limits, slowness and log probabilities.
package fakeopenai

import (
	"encoding/json"
	"fmt"
	"math"
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
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Authorization string `json:"-"`
}

// Reply writes one answer.
type Reply func(w http.ResponseWriter, r Request)

// Server is a running fake.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	replies  []Reply // consumed in order; the last one repeats
	requests []Request
}

// New starts a server that approves everything with confidence 0.99 until told otherwise.
func New() *Server {
	s := &Server{replies: []Reply{Answer("approve", 0.99)}}
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
	reply := s.replies[0]
	if len(s.replies) > 1 {
		s.replies = s.replies[1:]
	}
	s.mu.Unlock()
	reply(w, req)
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
