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
	"weak"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/envconfig"
	"github.com/ollama/ollama/version"
)

// The official client allocates, and so zeroes, an 8 MB line buffer for
// every streamed call, chat and generate included: against a server that
// answers at once that is most of a call's time and all but a few KB of its
// memory. For the clients NewClient made, Chat and Generate therefore send
// the request themselves, with the client's wire format and error
// semantics, a pooled request body and a pooled line buffer that grows to
// the same 8 MB limit only when an answer needs it. Clients made elsewhere
// go through the official client.

// maxLineBytes is the official client's limit on one answer line.
const maxLineBytes = 8 << 20

// endpoint is where a client made by NewClient sends its chat and generate
// requests.
type endpoint struct {
	chatURL     string
	generateURL string
	http        *http.Client
	userAgent   string
}

// endpoints maps the clients NewClient made to their endpoint; an entry
// goes when its client is garbage collected.
var endpoints sync.Map // weak.Pointer[api.Client] -> *endpoint

// register records c's endpoint, unless its server needs the signed
// requests only the official client makes.
func register(c *api.Client, base *url.URL, hc *http.Client) {
	if base.Hostname() == "ollama.com" {
		return
	}
	key := weak.Make(c)
	endpoints.Store(key, &endpoint{
		chatURL:     base.JoinPath("/api/chat").String(),
		generateURL: base.JoinPath("/api/generate").String(),
		http:        hc,
		userAgent:   fmt.Sprintf("ollama/%s (%s %s) Go/%s", version.Version, runtime.GOARCH, runtime.GOOS, runtime.Version()),
	})
	runtime.AddCleanup(c, func(k weak.Pointer[api.Client]) { endpoints.Delete(k) }, key)
}

// endpointOf returns c's endpoint, or nil when Chat and Generate must use
// the official client.
func endpointOf(c *api.Client) *endpoint {
	if envconfig.UseAuth() {
		return nil
	}
	ep, ok := endpoints.Load(weak.Make(c))
	if !ok {
		return nil
	}
	return ep.(*endpoint)
}

var (
	bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	linePool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
)

// chat is the official client's Chat for ep: the same request, headers,
// line-by-line answer and errors, without its per-call buffer.
func (ep *endpoint) chat(ctx context.Context, req *api.ChatRequest, fn api.ChatResponseFunc) error {
	return post(ctx, ep, ep.chatURL, req, fn)
}

// generate is the official client's Generate for ep, as chat is its Chat.
func (ep *endpoint) generate(ctx context.Context, req *api.GenerateRequest, fn api.GenerateResponseFunc) error {
	return post(ctx, ep, ep.generateURL, req, fn)
}

// post sends req to url as the official client streams a request, and hands
// each answer line, decoded as Resp, to fn.
func post[Req, Resp any](ctx context.Context, ep *endpoint, url string, req *Req, fn func(Resp) error) error {
	body := bodyPool.Get().(*bytes.Buffer)
	defer bodyPool.Put(body)
	body.Reset()
	if err := json.NewEncoder(body).Encode(req); err != nil {
		return err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body.Bytes()))
	if err != nil {
		return err
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/x-ndjson")
	hreq.Header.Set("User-Agent", ep.userAgent)
	resp, err := ep.http.Do(hreq)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	line := linePool.Get().(*[]byte)
	defer linePool.Put(line)
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer((*line)[:0], maxLineBytes)
	for scanner.Scan() {
		bts := scanner.Bytes()
		var errorResponse struct {
			Error     string `json:"error,omitempty"`
			SigninURL string `json:"signin_url,omitempty"`
		}
		if err := json.Unmarshal(bts, &errorResponse); err != nil {
			if resp.StatusCode >= http.StatusBadRequest {
				return api.StatusError{StatusCode: resp.StatusCode, Status: resp.Status, ErrorMessage: string(bts)}
			}
			return errors.New(string(bts))
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized:
			return api.AuthorizationError{StatusCode: resp.StatusCode, Status: resp.Status, SigninURL: errorResponse.SigninURL}
		case resp.StatusCode >= http.StatusBadRequest:
			return api.StatusError{StatusCode: resp.StatusCode, Status: resp.Status, ErrorMessage: errorResponse.Error}
		case errorResponse.Error != "":
			return errors.New(errorResponse.Error)
		}
		var r Resp
		if err := json.Unmarshal(bts, &r); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	// Like the official client, an answer line over the limit ends the
	// answer without an error.
	return nil
}
