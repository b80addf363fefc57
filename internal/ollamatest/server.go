// Package ollamatest is an in-process stand-in for an Ollama server, for
// tests that must not need model weights. It decodes the official client's
// request types (github.com/ollama/ollama/api), records them, and answers
// with the real response types, streamed as NDJSON or as one JSON object as
// the request's stream flag asks, the way the real server does. What the
// "model" answers is up to the test: a ChatFunc or EmbedFunc, such as the
// YesNo judge. Nothing here pretends to be a model; the answers are exactly
// what the test scripted.
package ollamatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
)

// ChatFunc answers one /api/chat request. Returning an Error or a Raw makes
// the server answer with that status and body instead; another error
// answers 500 with its text.
type ChatFunc func(ctx context.Context, req *api.ChatRequest) (api.ChatResponse, error)

// GenerateFunc answers one /api/generate request, with errors as for
// ChatFunc.
type GenerateFunc func(ctx context.Context, req *api.GenerateRequest) (api.GenerateResponse, error)

// EmbedFunc answers one /api/embed request, with errors as for ChatFunc.
type EmbedFunc func(ctx context.Context, req *api.EmbedRequest) (api.EmbedResponse, error)

// Error is an answer the real server gives on failure: status and a JSON
// body {"error": Message}.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Message is the error text.
	Message string
}

// Error returns the status and message.
func (e *Error) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// Raw is an answer sent verbatim: a status and a body, for answers the real
// server should never give (garbage, an empty 500).
type Raw struct {
	// Status is the HTTP status code.
	Status int
	// Body is sent as it is.
	Body string
}

// Error returns the status and body.
func (r *Raw) Error() string { return fmt.Sprintf("HTTP %d: %q", r.Status, r.Body) }

// Config says what the server knows and how it answers.
type Config struct {
	// Models are the models the server has; a request for another gets
	// 404 "model 'x' not found", as from the real server. "name" and
	// "name:latest" are the same model. If empty, every model exists.
	Models []string
	// Chat answers /api/chat. If nil, chat requests get 500.
	Chat ChatFunc
	// Embed answers /api/embed. If nil, embed requests get 500.
	Embed EmbedFunc
	// Generate answers /api/generate. If nil, generate requests get 500.
	Generate GenerateFunc
	// Delay holds every chat and embed answer back this long, or until the
	// client gives up, to test timeouts.
	Delay time.Duration
	// Capabilities are what /api/show reports for every model. If nil,
	// "completion" and "vision".
	Capabilities []string
	// ModelInfo is the model metadata /api/show reports for every model
	// (its model_info), e.g. "general.architecture": "bert" and
	// "bert.context_length": 512. If nil, none.
	ModelInfo map[string]any
	// Parameters are the Modelfile parameters /api/show reports, as the
	// real server formats them: "name value" lines, e.g. "num_ctx 256".
	Parameters string
}

// Call is one recorded request: the decoded value and the JSON body as
// sent, for asserting fields the decoded types hide (such as "stream").
type Call[T any] struct {
	// Request is the decoded request.
	Request T
	// Body is the JSON the client sent.
	Body []byte
}

// Server is a running fake Ollama server.
type Server struct {
	*httptest.Server
	cfg Config

	mu        sync.Mutex
	chats     []Call[api.ChatRequest]
	embeds    []Call[api.EmbedRequest]
	generates []Call[api.GenerateRequest]
	shows     int
}

// New starts a server with cfg and closes it when the test ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := Start(cfg)
	t.Cleanup(s.Close)
	return s
}

// Start starts a server with cfg; the caller closes it. It is for runnable
// examples, which have no testing.TB; tests use New.
func Start(cfg Config) *Server {
	s := &Server{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat", s.handleChat)
	mux.HandleFunc("POST /api/embed", s.handleEmbed)
	mux.HandleFunc("POST /api/generate", s.handleGenerate)
	mux.HandleFunc("POST /api/show", s.handleShow)
	mux.HandleFunc("GET /api/tags", s.handleTags)
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": "0.17.4"})
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Ollama is running")
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// APIClient returns an official client for the server.
func (s *Server) APIClient() *api.Client {
	return api.NewClient(mustURL(s.URL), s.Client())
}

// Chats returns the chat requests received so far, in arrival order.
func (s *Server) Chats() []Call[api.ChatRequest] {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.chats)
}

// Generates returns the generate requests received so far, in arrival
// order.
func (s *Server) Generates() []Call[api.GenerateRequest] {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.generates)
}

// Shows returns how many /api/show requests arrived.
func (s *Server) Shows() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shows
}

// Embeds returns the embed requests received so far, in arrival order.
func (s *Server) Embeds() []Call[api.EmbedRequest] {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.embeds)
}

func (s *Server) hasModel(name string) bool {
	if len(s.cfg.Models) == 0 {
		return true
	}
	norm := func(m string) string {
		if !strings.Contains(m, ":") {
			return m + ":latest"
		}
		return m
	}
	return slices.ContainsFunc(s.cfg.Models, func(m string) bool { return norm(m) == norm(name) })
}

// decode reads a JSON request body into v, answering 400 as the real
// server does when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return nil, false
	}
	return body, true
}

// wait applies the configured delay; it reports false if the client gave
// up first.
func (s *Server) wait(ctx context.Context) bool {
	if s.cfg.Delay <= 0 {
		return true
	}
	t := time.NewTimer(s.cfg.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	var req api.ChatRequest
	body, ok := decode(w, r, &req)
	if !ok {
		return
	}
	s.mu.Lock()
	s.chats = append(s.chats, Call[api.ChatRequest]{Request: req, Body: body})
	s.mu.Unlock()
	if !s.admit(w, r, req.Model, req.TopLogprobs) {
		return
	}
	if s.cfg.Chat == nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the test server has no chat handler"})
		return
	}
	resp, err := s.cfg.Chat(r.Context(), &req)
	if err != nil {
		writeError(w, err)
		return
	}
	if resp.Model == "" {
		resp.Model = req.Model
	}
	resp.Done = true
	first := resp
	first.Done, first.DoneReason, first.Metrics = false, "", api.Metrics{}
	last := resp
	last.Message.Content, last.Message.Thinking, last.Logprobs = "", "", nil
	writeAnswer(w, req.Stream, resp, first, last)
}

func (s *Server) handleGenerate(w http.ResponseWriter, r *http.Request) {
	var req api.GenerateRequest
	body, ok := decode(w, r, &req)
	if !ok {
		return
	}
	s.mu.Lock()
	s.generates = append(s.generates, Call[api.GenerateRequest]{Request: req, Body: body})
	s.mu.Unlock()
	if !s.admit(w, r, req.Model, req.TopLogprobs) {
		return
	}
	if s.cfg.Generate == nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the test server has no generate handler"})
		return
	}
	resp, err := s.cfg.Generate(r.Context(), &req)
	if err != nil {
		writeError(w, err)
		return
	}
	if resp.Model == "" {
		resp.Model = req.Model
	}
	resp.Done = true
	first := resp
	first.Done, first.DoneReason, first.Metrics = false, "", api.Metrics{}
	last := resp
	last.Response, last.Logprobs = "", nil
	writeAnswer(w, req.Stream, resp, first, last)
}

// admit answers a model request that the real server would refuse (an
// unknown model, top_logprobs out of range) and waits the configured delay;
// it reports whether the handler should go on and answer.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, model string, topLogprobs int) bool {
	if !s.hasModel(model) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("model '%s' not found", model)})
		return false
	}
	if topLogprobs < 0 || topLogprobs > 20 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "top_logprobs must be between 0 and 20"})
		return false
	}
	return s.wait(r.Context())
}

// writeAnswer writes a finished answer as the real server does: whole as
// one JSON object when stream is false; otherwise streamed as NDJSON, first
// the content in one chunk, then a final chunk with the metrics.
func writeAnswer(w http.ResponseWriter, stream *bool, whole, first, last any) {
	if stream != nil && !*stream {
		writeJSON(w, http.StatusOK, whole)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	enc.Encode(first)
	enc.Encode(last)
}

func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request) {
	var req api.EmbedRequest
	body, ok := decode(w, r, &req)
	if !ok {
		return
	}
	s.mu.Lock()
	s.embeds = append(s.embeds, Call[api.EmbedRequest]{Request: req, Body: body})
	s.mu.Unlock()
	if !s.hasModel(req.Model) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("model \"%s\" not found, try pulling it first", req.Model)})
		return
	}
	if !s.wait(r.Context()) {
		return
	}
	if s.cfg.Embed == nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the test server has no embed handler"})
		return
	}
	resp, err := s.cfg.Embed(r.Context(), &req)
	if err != nil {
		writeError(w, err)
		return
	}
	if resp.Model == "" {
		resp.Model = req.Model
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleShow(w http.ResponseWriter, r *http.Request) {
	var req api.ShowRequest
	if _, ok := decode(w, r, &req); !ok {
		return
	}
	s.mu.Lock()
	s.shows++
	s.mu.Unlock()
	// Every caller in this module names the model in Model; Name is the
	// deprecated spelling of older clients.
	name := req.Model
	if !s.hasModel(name) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("model '%s' not found", name)})
		return
	}
	caps := s.cfg.Capabilities
	if caps == nil {
		caps = []string{"completion", "vision"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"capabilities": caps, "details": map[string]string{"format": "gguf"},
		"model_info": s.cfg.ModelInfo, "parameters": s.cfg.Parameters})
}

func (s *Server) handleTags(w http.ResponseWriter, r *http.Request) {
	models := make([]api.ListModelResponse, len(s.cfg.Models))
	for i, m := range s.cfg.Models {
		models[i] = api.ListModelResponse{Name: m, Model: m}
	}
	writeJSON(w, http.StatusOK, api.ListResponse{Models: models})
}

func writeError(w http.ResponseWriter, err error) {
	var e *Error
	var raw *Raw
	switch {
	case errors.As(err, &e):
		writeJSON(w, e.Status, map[string]string{"error": e.Message})
	case errors.As(err, &raw):
		w.WriteHeader(raw.Status)
		io.WriteString(w, raw.Body)
	default:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		fmt.Fprintf(&buf, "{\"error\":%q}\n", err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
