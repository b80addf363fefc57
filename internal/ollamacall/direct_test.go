package ollamacall

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
)

// TestDirectChatMatchesOfficialClient sends the same chats through a client
// NewClient made (the direct path) and through a plain official client, and
// wants the same answers and the same errors.
func TestDirectChatMatchesOfficialClient(t *testing.T) {
	fail := func(err error) ollamatest.ChatFunc {
		return func(context.Context, *api.ChatRequest) (api.ChatResponse, error) { return api.ChatResponse{}, err }
	}
	tests := []struct {
		name string
		cfg  ollamatest.Config
	}{
		{"answer", ollamatest.Config{Chat: ollamatest.YesNo(func(*api.ChatRequest) float64 { return 0.75 })}},
		{"text", ollamatest.Config{Chat: ollamatest.Text(func(*api.ChatRequest) string { return "a summary" })}},
		{"model not found", ollamatest.Config{Models: []string{"other"}}},
		{"500", ollamatest.Config{Chat: fail(&ollamatest.Error{Status: 500, Message: "runner crashed"})}},
		{"400", ollamatest.Config{Chat: fail(&ollamatest.Error{Status: 400, Message: "does not support vision"})}},
		{"401", ollamatest.Config{Chat: fail(&ollamatest.Error{Status: 401, Message: "sign in"})}},
		{"empty 500", ollamatest.Config{Chat: fail(&ollamatest.Raw{Status: 500})}},
		{"garbage 500", ollamatest.Config{Chat: fail(&ollamatest.Raw{Status: 500, Body: "<html>bad gateway</html>"})}},
		{"garbage 200", ollamatest.Config{Chat: fail(&ollamatest.Raw{Status: 200, Body: "<html>proxy</html>"})}},
		{"error line in the stream", ollamatest.Config{Chat: fail(&ollamatest.Raw{Status: 200, Body: `{"error":"out of memory"}`})}},
		{"two lines", ollamatest.Config{Chat: fail(&ollamatest.Raw{Status: 200,
			Body: `{"message":{"role":"assistant","content":"Ye"}}` + "\n" + `{"message":{"role":"assistant","content":"s"},"done":true,"eval_count":2}`})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ollamatest.New(t, tt.cfg)
			req := func() *api.ChatRequest {
				return &api.ChatRequest{Model: "m", Logprobs: true, TopLogprobs: 3, Messages: []api.Message{{Role: "user", Content: "hi"}}}
			}
			direct := NewClient(srv.URL, srv.Client())
			require.NotNil(t, endpointOf(direct), "NewClient's clients take the direct path")
			official := srv.APIClient()
			require.Nil(t, endpointOf(official))
			want, wantErr := Chat(context.Background(), official, req(), time.Second)
			got, gotErr := Chat(context.Background(), direct, req(), time.Second)
			assert.Equal(t, want, got)
			if chats := srv.Chats(); len(chats) == 2 {
				assert.JSONEq(t, string(chats[0].Body), string(chats[1].Body), "same request on the wire")
			}
			if wantErr == nil {
				require.NoError(t, gotErr)
				return
			}
			require.Error(t, gotErr)
			assert.Equal(t, wantErr.Error(), gotErr.Error())
		})
	}
}

// TestDirectGenerateMatchesOfficialClient does for Generate what
// TestDirectChatMatchesOfficialClient does for Chat: the completion mode
// takes the direct path too, and must not differ from the official client.
func TestDirectGenerateMatchesOfficialClient(t *testing.T) {
	fail := func(err error) ollamatest.GenerateFunc {
		return func(context.Context, *api.GenerateRequest) (api.GenerateResponse, error) {
			return api.GenerateResponse{}, err
		}
	}
	tests := []struct {
		name         string
		cfg          ollamatest.Config
		wantLogprobs bool
	}{
		{"answer", ollamatest.Config{Generate: ollamatest.YesNoCompletion(func(string) float64 { return 0.75 })}, true},
		{"model not found", ollamatest.Config{Models: []string{"other"}}, false},
		{"500", ollamatest.Config{Generate: fail(&ollamatest.Error{Status: 500, Message: "runner crashed"})}, false},
		{"401", ollamatest.Config{Generate: fail(&ollamatest.Error{Status: 401, Message: "sign in"})}, false},
		{"empty 500", ollamatest.Config{Generate: fail(&ollamatest.Raw{Status: 500})}, false},
		{"garbage 200", ollamatest.Config{Generate: fail(&ollamatest.Raw{Status: 200, Body: "<html>proxy</html>"})}, false},
		{"error line in the stream", ollamatest.Config{Generate: fail(&ollamatest.Raw{Status: 200, Body: `{"error":"out of memory"}`})}, false},
		{"two lines", ollamatest.Config{Generate: fail(&ollamatest.Raw{Status: 200,
			Body: `{"response":"Ye"}` + "\n" + `{"response":"s","done":true,"eval_count":2}`})}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ollamatest.New(t, tt.cfg)
			req := func() *api.GenerateRequest {
				return &api.GenerateRequest{Model: "m", Raw: true, Prompt: "Relevant:", Logprobs: true, TopLogprobs: 3}
			}
			direct := NewClient(srv.URL, srv.Client())
			require.NotNil(t, endpointOf(direct))
			want, wantErr := Generate(context.Background(), srv.APIClient(), req(), time.Second)
			got, gotErr := Generate(context.Background(), direct, req(), time.Second)
			assert.Equal(t, want, got)
			if gens := srv.Generates(); len(gens) == 2 {
				assert.JSONEq(t, string(gens[0].Body), string(gens[1].Body), "same request on the wire")
			}
			if wantErr == nil {
				require.NoError(t, gotErr)
				assert.Equal(t, tt.wantLogprobs, len(got.Logprobs) > 0, "log-probabilities exactly when sent")
				return
			}
			require.Error(t, gotErr)
			assert.Equal(t, wantErr.Error(), gotErr.Error())
		})
	}
}

// TestDirectRequestMatchesOfficialClient wants the direct path to put the
// same request on the wire as the official client, byte for byte: method,
// path, query, headers and body.
func TestDirectRequestMatchesOfficialClient(t *testing.T) {
	type request struct {
		method, path, query, host string
		header                    http.Header
		body                      []byte
	}
	var (
		mu  sync.Mutex
		got []request
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, request{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header.Clone(), body})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"model":"m","message":{"role":"assistant","content":"yes"},"response":"yes","done":true}`)
	}))
	defer srv.Close()
	base, err := url.Parse(srv.URL)
	require.NoError(t, err)
	official, direct := api.NewClient(base, srv.Client()), NewClient(srv.URL, srv.Client())
	require.NotNil(t, endpointOf(direct))

	off := false
	picture := api.ImageData("\x89PNG\r\n\x1a\n<picture>")
	calls := []struct {
		name string
		call func(c *api.Client) error
	}{
		{"chat", func(c *api.Client) error {
			_, err := Chat(context.Background(), c, &api.ChatRequest{Model: "qwen2.5vl:7b",
				Messages: []api.Message{{Role: "system", Content: "Answer yes or no."},
					{Role: "user", Content: "Bought before: <boots> & \"socks\"", Images: []api.ImageData{picture}}},
				Format: json.RawMessage(`"json"`), Options: map[string]any{"num_predict": 1, "temperature": 0, "num_ctx": 8192},
				Think: &api.ThinkValue{Value: false}, Logprobs: true, TopLogprobs: 20,
				KeepAlive: &api.Duration{Duration: time.Minute}, Truncate: &off}, time.Second)
			return err
		}},
		{"generate", func(c *api.Client) error {
			_, err := Generate(context.Background(), c, &api.GenerateRequest{Model: "gemma3:270m", Raw: true,
				Prompt: "Candidate: boots\nRelevant:", Images: []api.ImageData{picture},
				Options: map[string]any{"num_predict": 1, "temperature": 0}, Think: &api.ThinkValue{Value: false},
				Logprobs: true, TopLogprobs: 20, Truncate: &off}, time.Second)
			return err
		}},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			require.NoError(t, tt.call(official))
			require.NoError(t, tt.call(direct))
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, got, 2)
			want, have := got[0], got[1]
			assert.Equal(t, string(want.body), string(have.body), "body")
			want.body, have.body = nil, nil
			assert.Equal(t, want, have)
		})
	}
}

// TestDirectLineLimitMatchesOfficialClient holds the direct path's line
// buffer to the official client's limit: an answer line under it is read
// (here a line that is not JSON, which both paths return as the error, so
// that the test does not spend its time decoding megabytes), one over it
// ends the answer, on both paths alike. A change of the limit upstream
// fails here.
func TestDirectLineLimitMatchesOfficialClient(t *testing.T) {
	for _, size := range []int{1 << 20, maxLineBytes - 1<<10, maxLineBytes + 1<<10} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			line := strings.Repeat("x", size)
			srv := ollamatest.New(t, ollamatest.Config{Chat: func(context.Context, *api.ChatRequest) (api.ChatResponse, error) {
				return api.ChatResponse{}, &ollamatest.Raw{Status: http.StatusOK, Body: line}
			}})
			req := func() *api.ChatRequest { return &api.ChatRequest{Model: "m"} }
			_, wantErr := Chat(context.Background(), srv.APIClient(), req(), 10*time.Second)
			_, gotErr := Chat(context.Background(), NewClient(srv.URL, srv.Client()), req(), 10*time.Second)
			require.ErrorIs(t, wantErr, ErrBadAnswer)
			require.ErrorIs(t, gotErr, ErrBadAnswer)
			if size < maxLineBytes {
				assert.Greater(t, len(wantErr.Error()), size, "the official client reads a line under its limit")
			} else {
				assert.Contains(t, wantErr.Error(), "empty response", "the official client ends the answer at a line over its limit")
			}
			assert.Equal(t, len(wantErr.Error()), len(gotErr.Error()))
			assert.True(t, wantErr.Error() == gotErr.Error(), "the same error")
		})
	}
}
