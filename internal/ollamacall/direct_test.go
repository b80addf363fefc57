package ollamacall

import (
	"context"
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
