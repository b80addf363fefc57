package ollamacall

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDirectBodySurvivesEarlyAnswer holds the direct path to net/http's
// contract for request bodies: "RoundTrip must always close the body ...
// but depending on the implementation may do so in a separate goroutine
// even after RoundTrip returns", so a caller must not reuse a body's memory
// before its Close, and the direct path never reuses it at all.
//
// The HTTP/1 transport writes a body on a goroutine of its own and hands
// the answer over as soon as it is in. When the answer has been read to its
// end, it waits at most 50 ms for the body to be sent, then lets the caller
// go while it still sends. The server here answers before it reads a byte
// of a body far larger than a socket holds, then reads it slower than
// that, so every call returns while its body is still being read from its
// buffer, and the next call is made at once. A buffer reused for the next
// request is then written while the transport reads it: a data race under
// -race, and a body that reaches the server changed when the next request
// overtakes the transport.
func TestDirectBodySurvivesEarlyAnswer(t *testing.T) {
	const (
		calls     = 8
		bodyBytes = 4 << 20
	)
	request := func(i int) *api.ChatRequest {
		id := fmt.Sprintf("call %04d. ", i)
		return &api.ChatRequest{Model: "m", Messages: []api.Message{{Role: "user",
			Content: strings.Repeat(id, bodyBytes/len(id))}}}
	}
	sent := func(i int) []byte { // the body as Chat sends it
		req := request(i)
		stream := false
		req.Stream = &stream
		b, err := json.Marshal(req)
		require.NoError(t, err)
		return b
	}
	answer, err := json.Marshal(api.ChatResponse{Model: "m", Done: true,
		Message: api.Message{Role: "assistant", Content: "yes"}})
	require.NoError(t, err)

	var (
		next  atomic.Int32
		mu    sync.Mutex
		wrong []string
	)
	record := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		wrong = append(wrong, fmt.Sprintf(format, args...))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(next.Add(1)) - 1
		rc := http.NewResponseController(w)
		if err := rc.EnableFullDuplex(); err != nil {
			record("call %d: %v", i, err)
			return
		}
		// A length, so that the client's answer ends here while this
		// handler still reads the body.
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		_, _ = w.Write(answer)
		if err := rc.Flush(); err != nil {
			record("call %d: %v", i, err)
			return
		}
		var body []byte
		chunk := make([]byte, 64<<10)
		for {
			n, err := r.Body.Read(chunk)
			body = append(body, chunk[:n]...)
			if err != nil {
				// The end, or the client's transport giving up on a
				// body it could not finish sending soon after the
				// answer: a cut body is its choice, a changed one a
				// bug.
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		if !bytes.HasPrefix(sent(i), bytes.TrimSuffix(body, []byte("\n"))) {
			record("call %d: the body arrived changed", i)
		}
	}))
	c := NewClient(srv.URL, srv.Client())
	require.NotNil(t, endpointOf(c), "the test is about the direct path")
	for i := range calls {
		resp, err := Chat(context.Background(), c, request(i), time.Minute)
		require.NoError(t, err, "call %d", i)
		require.Equal(t, "yes", resp.Message.Content)
	}
	srv.Close() // waits for every handler
	assert.Empty(t, wrong)
}
