package ollamacall

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"sync"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/envconfig"
	"github.com/ollama/ollama/format"
	"github.com/ollama/ollama/version"
)

// Why Chat and Generate do not always go through the official client: its
// Chat and Generate (api.Client.stream) allocate, and so zero, an 8 MB line
// buffer for every call, streamed or not. Against a server that answers at
// once that is most of a call's time and all but a few KB of its memory
// (BenchmarkGenerateOverhead: official against direct), and a reranker
// makes one call per candidate. The client offers no way to pass a buffer,
// so for the clients NewClient made, Chat and Generate send the request
// themselves: stream below is api.Client.stream for an unsigned POST, line
// for line, but for a pooled line buffer that grows to the same 8 MB limit
// only when an answer needs it. Everything else (Embed, Show, clients made
// elsewhere, and servers that need signed requests) goes through the
// official client as it is.
//
// What keeps the copy honest on an Ollama upgrade:
// TestDirectChatMatchesOfficialClient and
// TestDirectGenerateMatchesOfficialClient send the same calls both ways and
// want the same answers and errors, TestDirectRequestMatchesOfficialClient
// the same bytes on the wire, TestDirectLineLimitMatchesOfficialClient the
// same line limit, and TestOfficialCodeUnchanged fails when the official
// code copied here changes, naming what to compare.

// maxLineBytes is the official client's limit on one answer line, spelt as
// api.maxBufferSize is (8 MB in powers of ten).
const maxLineBytes = 8 * format.MegaByte

// endpoint is where a client made by NewClient sends its chat and generate
// requests.
type endpoint struct {
	chatURL     string
	generateURL string
	http        *http.Client
	userAgent   string
}

// register gives c, just made by NewClient, the direct path, unless its
// server needs the signed requests only the official client makes.
func register(c *api.Client, base *url.URL, hc *http.Client) {
	if base.Hostname() == "ollama.com" {
		return
	}
	stateOf(c).ep = &endpoint{
		chatURL:     base.JoinPath("/api/chat").String(),
		generateURL: base.JoinPath("/api/generate").String(),
		http:        hc,
		userAgent:   fmt.Sprintf("ollama/%s (%s %s) Go/%s", version.Version, runtime.GOARCH, runtime.GOOS, runtime.Version()),
	}
}

// endpointOf returns c's endpoint, or nil when Chat and Generate must use
// the official client.
func endpointOf(c *api.Client) *endpoint {
	if envconfig.UseAuth() {
		return nil
	}
	if s := lookup(c); s != nil {
		return s.ep
	}
	return nil
}

// linePool holds line buffers between calls; a buffer grown for a long
// answer line is not kept.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// chat is api.Client.Chat for ep.
func (ep *endpoint) chat(ctx context.Context, req *api.ChatRequest, fn api.ChatResponseFunc) error {
	return ep.stream(ctx, ep.chatURL, req, decoded(fn))
}

// generate is api.Client.Generate for ep.
func (ep *endpoint) generate(ctx context.Context, req *api.GenerateRequest, fn api.GenerateResponseFunc) error {
	return ep.stream(ctx, ep.generateURL, req, decoded(fn))
}

// decoded is what api.Client.Chat and Generate hand to stream: each line
// decoded as Resp, then given to fn.
func decoded[Resp any](fn func(Resp) error) func([]byte) error {
	return func(bts []byte) error {
		var resp Resp
		if err := json.Unmarshal(bts, &resp); err != nil {
			return err
		}
		return fn(resp)
	}
}

// stream is api.Client.stream for a POST to url without signing (register
// and endpointOf leave signed requests to the official client), with a
// pooled line buffer. The body is the request's own, never pooled: the
// transport may still read it after the answer is in (see
// TestDirectBodySurvivesEarlyAnswer).
func (ep *endpoint) stream(ctx context.Context, url string, data any, fn func([]byte) error) error {
	bts, err := json.Marshal(data)
	if err != nil {
		return err
	}
	request, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewBuffer(bts))
	if err != nil {
		return err
	}
	request.Header.Set("Content-Type", "application/json")
	request.Header.Set("Accept", "application/x-ndjson")
	request.Header.Set("User-Agent", ep.userAgent)

	response, err := ep.http.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()

	scanner := bufio.NewScanner(response.Body)
	scanBuf := linePool.Get().(*[]byte)
	defer linePool.Put(scanBuf)
	scanner.Buffer((*scanBuf)[:0], maxLineBytes)
	for scanner.Scan() {
		var errorResponse struct {
			Error     string `json:"error,omitempty"`
			SigninURL string `json:"signin_url,omitempty"`
		}

		bts := scanner.Bytes()
		if err := json.Unmarshal(bts, &errorResponse); err != nil {
			if response.StatusCode >= http.StatusBadRequest {
				return api.StatusError{
					StatusCode:   response.StatusCode,
					Status:       response.Status,
					ErrorMessage: string(bts),
				}
			}
			return errors.New(string(bts))
		}

		if response.StatusCode == http.StatusUnauthorized {
			return api.AuthorizationError{
				StatusCode: response.StatusCode,
				Status:     response.Status,
				SigninURL:  errorResponse.SigninURL,
			}
		} else if response.StatusCode >= http.StatusBadRequest {
			return api.StatusError{
				StatusCode:   response.StatusCode,
				Status:       response.Status,
				ErrorMessage: errorResponse.Error,
			}
		}

		if errorResponse.Error != "" {
			return errors.New(errorResponse.Error)
		}

		if err := fn(bts); err != nil {
			return err
		}
	}

	// Like the official client, an answer line over the limit ends the
	// answer without an error.
	return nil
}
