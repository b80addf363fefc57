package ollamacall

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
)

// BenchmarkChatOverhead measures what one chat call costs on our side, the
// model aside: a reranker's call for one candidate (a prompt of about 2 KB,
// a JSON answer of a few dozen bytes) against a local server that answers
// at once. Time, bytes and allocations are the client's and the server's
// together; the server only reads the body and writes a fixed answer.
func BenchmarkChatOverhead(b *testing.B) {
	answer, err := json.Marshal(api.ChatResponse{Model: "m", Done: true, DoneReason: "stop",
		Message: api.Message{Role: "assistant", Content: `{"relevant": "yes"}`},
		Metrics: api.Metrics{PromptEvalCount: 512, EvalCount: 6}})
	if err != nil {
		b.Fatal(err)
	}
	srv := answering(answer)
	defer srv.Close()
	c := NewClient(srv.URL, srv.Client())
	prompt := strings.Repeat("Waterproof leather hiking boots with a Vibram sole. ", 40)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		req := &api.ChatRequest{Model: "m", Format: json.RawMessage(`"json"`),
			Messages: []api.Message{{Role: "system", Content: "Answer yes or no."}, {Role: "user", Content: prompt}}}
		resp, err := Chat(ctx, c, req, time.Minute)
		if err != nil || resp.Message.Content == "" {
			b.Fatalf("chat: %v", err)
		}
	}
}

// BenchmarkGenerateOverhead is BenchmarkChatOverhead for the completion
// mode's /api/generate call, through the official client and through the
// direct path of a NewClient client, side by side in one run.
func BenchmarkGenerateOverhead(b *testing.B) {
	answer, err := json.Marshal(api.GenerateResponse{Model: "m", Done: true, DoneReason: "length",
		Response: " yes", Metrics: api.Metrics{PromptEvalCount: 512, EvalCount: 1}})
	if err != nil {
		b.Fatal(err)
	}
	srv := answering(answer)
	defer srv.Close()
	base, err := url.Parse(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	prompt := strings.Repeat("Waterproof leather hiking boots with a Vibram sole. ", 40) + "\nRelevant:"
	for _, bc := range []struct {
		name string
		c    *api.Client
	}{
		{"official", api.NewClient(base, srv.Client())},
		{"direct", NewClient(srv.URL, srv.Client())},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				req := &api.GenerateRequest{Model: "m", Raw: true, Prompt: prompt, Logprobs: true, TopLogprobs: 20}
				resp, err := Generate(ctx, bc.c, req, time.Minute)
				if err != nil || resp.Response == "" {
					b.Fatalf("generate: %v", err)
				}
			}
		})
	}
}

// answering is a local server that reads each request's body and answers
// at once with answer, so that a benchmark measures our side of a call.
func answering(answer []byte) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	}))
}
