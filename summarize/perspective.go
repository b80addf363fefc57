package summarize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
	"golang.org/x/sync/singleflight"

	"hmpps/internal/htmltext"
	"hmpps/internal/lru"
	"hmpps/internal/ollamacall"
)

// Errors of the Perspective summarizer. The model errors are the same values
// as the retrieval and rerank packages', so that one errors.Is test works
// whichever stage failed.
var (
	// ErrInvalidConfig reports a PerspectiveConfig without a client or a
	// model, or with a negative setting.
	ErrInvalidConfig = errors.New("summarize: invalid configuration")
	// ErrModelNotFound reports a model the Ollama server does not have.
	ErrModelNotFound = ollamacall.ErrModelNotFound
	// ErrModelUnavailable reports a server that cannot be reached, failed,
	// or did not answer within the timeout.
	ErrModelUnavailable = ollamacall.ErrUnavailable
	// ErrBadModelAnswer reports an answer that is not what was asked for:
	// perspectives that are not a JSON list, an empty summary.
	ErrBadModelAnswer = ollamacall.ErrBadAnswer
)

// Defaults of PerspectiveConfig.
const (
	// DefaultMaxPerspectives is how many perspectives a query gets: the
	// few aspects a shopper judges candidates on.
	DefaultMaxPerspectives = 5
	// DefaultSummaryCacheSize is how many summaries (and captions) the cache
	// holds.
	DefaultSummaryCacheSize = 4096
	// DefaultPerspectiveCacheSize is how many queries' perspectives the
	// cache holds.
	DefaultPerspectiveCacheSize = 1024
	// DefaultMaxInputChars caps the product text sent for summarizing, about
	// 1,500 tokens: enough for any real description, and a runaway one
	// cannot overflow the model's context.
	DefaultMaxInputChars = 6000
	// DefaultPerspectiveTimeout bounds one call.
	DefaultPerspectiveTimeout = 2 * time.Minute
)

// PerspectiveConfig configures NewPerspective. Blank fields take the
// defaults above.
type PerspectiveConfig struct {
	// Client talks to the Ollama server; required.
	Client *api.Client
	// Model writes the perspectives, summaries and captions, e.g.
	// "qwen2.5vl:7b"; required. Captions and UseImage need a vision model.
	Model string
	// MaxPerspectives caps the perspectives of a query. If zero,
	// DefaultMaxPerspectives.
	MaxPerspectives int
	// UseImage sends the document's picture with the summary request, so
	// that the summary can mention what only the picture shows. Off by
	// default: captions made once per product (see Caption) are cheaper
	// than a picture per summary.
	UseImage bool
	// CacheSize is how many summaries and captions are kept. If zero,
	// DefaultSummaryCacheSize.
	CacheSize int
	// MaxInputChars caps the product text sent. If zero,
	// DefaultMaxInputChars.
	MaxInputChars int
	// Timeout bounds each call. If zero, DefaultPerspectiveTimeout; negative
	// means no limit beyond the caller's context.
	Timeout time.Duration
	// KeepAlive is how long the server keeps the model loaded after a call.
	// If zero, the server's default (5 minutes); negative keeps it loaded.
	KeepAlive time.Duration
	// Options are extra model options sent with every call, such as
	// "num_ctx". The summarizer's own (temperature 0, num_predict) win.
	Options map[string]any
}

// Perspective is the paper's perspective-guided summarizer on a model served
// by Ollama. For a query it first asks the model for the query's core
// perspectives, the aspects a shopper will judge candidates on ("waterproof
// hiking boots": waterproofing, ankle support, sole grip), as a JSON list
// constrained by a JSON schema; then it summarizes each product's text
// around those perspectives in at most maxWords words.
//
// Perspectives and summaries are cached in bounded in-memory caches, keyed
// by the query (perspectives) and by product ID, a hash of the product's
// content, the perspectives, the model and the budget (summaries), so a
// product is summarized once per query intent, not once per search.
// Identical requests that arrive together are computed once (singleflight):
// the many concurrent Summarize calls of one search share one perspectives
// call.
//
// Errors wrap ErrModelNotFound, ErrModelUnavailable or ErrBadModelAnswer;
// the hmpps engine then uses the offline Extractive summary for that item. A
// Perspective is safe for concurrent use.
type Perspective struct {
	cfg PerspectiveConfig
	// views caches perspectives by query; summaries caches summaries and
	// captions by the key built in summaryKey.
	views     *lru.Cache[string, []string]
	summaries *lru.Cache[string, string]
	// flights makes identical concurrent calls share one model call.
	flights singleflight.Group
}

var _ Summarizer = (*Perspective)(nil)

// NewPerspective returns a summarizer for cfg.
func NewPerspective(cfg PerspectiveConfig) (*Perspective, error) {
	switch {
	case cfg.Client == nil:
		return nil, fmt.Errorf("%w: perspective summarizer needs an ollama client", ErrInvalidConfig)
	case cfg.Model == "":
		return nil, fmt.Errorf("%w: perspective summarizer needs a model name", ErrInvalidConfig)
	case cfg.MaxPerspectives < 0, cfg.CacheSize < 0, cfg.MaxInputChars < 0:
		return nil, fmt.Errorf("%w: perspective summarizer settings must not be negative", ErrInvalidConfig)
	}
	if cfg.MaxPerspectives == 0 {
		cfg.MaxPerspectives = DefaultMaxPerspectives
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultSummaryCacheSize
	}
	if cfg.MaxInputChars == 0 {
		cfg.MaxInputChars = DefaultMaxInputChars
	}
	switch {
	case cfg.Timeout == 0:
		cfg.Timeout = DefaultPerspectiveTimeout
	case cfg.Timeout < 0:
		cfg.Timeout = 0
	}
	return &Perspective{
		cfg:       cfg,
		views:     lru.New[string, []string](DefaultPerspectiveCacheSize, 0, nil),
		summaries: lru.New[string, string](cfg.CacheSize, 0, nil),
	}, nil
}

// Model returns the model the summarizer calls.
func (p *Perspective) Model() string { return p.cfg.Model }

// PerspectivesSchema returns the JSON schema sent as the perspectives
// call's Format: an object with a list of at most max short strings.
func PerspectivesSchema(max int) json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{"perspectives":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":` +
		strconv.Itoa(max) + `}},"required":["perspectives"]}`)
}

// Perspectives returns the query's core perspectives, most important first,
// with the model work it took (a cache hit when another call already asked).
func (p *Perspective) Perspectives(ctx context.Context, query string) ([]string, Usage, error) {
	query = cleanLine(query)
	if query == "" {
		return nil, Usage{}, fmt.Errorf("summarize: perspectives: empty query")
	}
	if v, ok := p.views.Get(query); ok {
		return v, Usage{CacheHits: 1}, nil
	}
	v, usage, err := p.share(ctx, "perspectives\x00"+query, func() (any, Usage, error) {
		prompt := "A shopper searched an online store for: " + strconv.Quote(query) + "\n\n" +
			"List the core perspectives of this search: the aspects of a product this shopper " +
			"will judge the results on, such as the product type, a feature, a material, a use, " +
			"a style or a price level. Give at most " + strconv.Itoa(p.cfg.MaxPerspectives) +
			" short noun phrases, most important first, as JSON."
		resp, usage, err := p.chat(ctx, []api.Message{{Role: "user", Content: prompt}}, PerspectivesSchema(p.cfg.MaxPerspectives), 160)
		if err != nil {
			return nil, usage, err
		}
		views, err := parsePerspectives(resp.Message.Content, p.cfg.MaxPerspectives)
		if err != nil {
			return nil, usage, err
		}
		p.views.Add(query, views)
		return views, usage, nil
	})
	if err != nil {
		return nil, usage, fmt.Errorf("summarize: perspectives: %w", err)
	}
	return v.([]string), usage, nil
}

// Summarize returns doc's summary around the query's perspectives in at
// most maxWords words (DefaultMaxWords if maxWords <= 0). Its Usage adds the
// perspectives call, when this call made it.
func (p *Perspective) Summarize(ctx context.Context, query string, doc Document, maxWords int) (Summary, error) {
	if maxWords <= 0 {
		maxWords = DefaultMaxWords
	}
	views, usage, err := p.Perspectives(ctx, query)
	if err != nil {
		return Summary{Usage: usage}, err
	}
	text := clipInput(htmltext.Plain(doc.Text), p.cfg.MaxInputChars)
	title := cleanLine(htmltext.Plain(doc.Title))
	image := doc.Image
	if !p.cfg.UseImage {
		image = nil
	}
	key := p.key("summary", doc.ID, maxWords, title, text, image, strings.Join(views, "\x1f"))
	prompt := "Perspectives of the search: " + strings.Join(views, "; ") + ".\n\n" +
		"Product: " + title + "\n" + text + "\n\n" +
		"Summarize this product in at most " + strconv.Itoa(maxWords) + " words for a shopper who " +
		"cares about these perspectives. Say what the product is, then what it offers on each " +
		"perspective it covers, and leave out the ones it does not. Use only facts from the product " +
		"text" + map[bool]string{true: " and picture", false: ""}[len(image) > 0] +
		". Plain text, no lists, no preamble."
	s, u, err := p.generate(ctx, key, prompt, image, maxWords)
	usage = usage.Add(u)
	if err != nil {
		return Summary{Usage: usage}, fmt.Errorf("summarize: %q: %w", doc.ID, err)
	}
	return Summary{Text: s, Usage: usage}, nil
}

// generate returns the cleaned answer to a summary-like prompt, from the
// cache or from one model call shared by identical concurrent requests.
func (p *Perspective) generate(ctx context.Context, key, prompt string, image []byte, maxWords int) (string, Usage, error) {
	if s, ok := p.summaries.Get(key); ok {
		return s, Usage{CacheHits: 1}, nil
	}
	v, usage, err := p.share(ctx, key, func() (any, Usage, error) {
		msg := api.Message{Role: "user", Content: prompt}
		if len(image) > 0 {
			msg.Images = []api.ImageData{image}
		}
		// Words run about 1.3 tokens in English; leave room for the
		// sentence to end.
		resp, usage, err := p.chat(ctx, []api.Message{msg}, nil, maxWords*2+32)
		if err != nil {
			return nil, usage, err
		}
		s, err := cleanSummary(resp.Message.Content, maxWords)
		if err != nil {
			return nil, usage, err
		}
		p.summaries.Add(key, s)
		return s, usage, nil
	})
	if err != nil {
		return "", usage, err
	}
	return v.(string), usage, nil
}

// share runs fn once for all identical concurrent calls (same key). A call
// that shared another's result reports it as a cache hit. When the call it
// shared was cancelled by its own caller, this one tries again with its own
// context rather than fail for someone else's reason.
func (p *Perspective) share(ctx context.Context, key string, fn func() (any, Usage, error)) (any, Usage, error) {
	for attempt := 0; ; attempt++ {
		var usage Usage
		ran := false
		v, err, _ := p.flights.Do(key, func() (any, error) {
			ran = true
			var (
				v   any
				err error
			)
			v, usage, err = fn()
			return v, err
		})
		switch {
		case ran:
		case err == nil:
			usage = Usage{CacheHits: 1}
		case attempt == 0 && ctx.Err() == nil && errors.Is(err, context.Canceled):
			continue
		}
		return v, usage, err
	}
}

// chat makes one call with the summarizer's settings.
func (p *Perspective) chat(ctx context.Context, msgs []api.Message, format json.RawMessage, numPredict int) (api.ChatResponse, Usage, error) {
	options := make(map[string]any, len(p.cfg.Options)+2)
	for k, v := range p.cfg.Options {
		options[k] = v
	}
	options["temperature"] = 0
	options["num_predict"] = numPredict
	truncate := false
	resp, err := ollamacall.Chat(ctx, p.cfg.Client, &api.ChatRequest{
		Model:     p.cfg.Model,
		Messages:  msgs,
		Format:    format,
		Options:   options,
		Think:     &api.ThinkValue{Value: false},
		KeepAlive: ollamacall.KeepAlive(p.cfg.KeepAlive),
		Truncate:  &truncate,
	}, p.cfg.Timeout)
	usage := Usage{ModelCalls: 1, PromptTokens: resp.PromptEvalCount, GeneratedTokens: resp.EvalCount}
	return resp, usage, err
}

// key identifies a cached summary or caption: what was asked, of which
// product, with which content, by which model, in how many words.
func (p *Perspective) key(kind, id string, maxWords int, parts ...any) string {
	h := sha256.New()
	for _, part := range parts {
		switch v := part.(type) {
		case string:
			h.Write([]byte(v))
		case []byte:
			h.Write(v)
		}
		h.Write([]byte{0})
	}
	return kind + "\x00" + p.cfg.Model + "\x00" + strconv.Itoa(maxWords) + "\x00" + id + "\x00" + hex.EncodeToString(h.Sum(nil))
}

// clipInput cuts s to at most n bytes at a word boundary.
func clipInput(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut < n/2 {
		cut = n
	}
	return strings.ToValidUTF8(s[:cut], "") + defaultEllipsis
}
