// Command ollama runs the quickstart's search with the model-backed stages:
// a vision model served by a local Ollama summarizes the products around the
// query's perspectives and judges, for each candidate, whether this shopper
// would buy it (the paper's yes/no reranker), looking at the pictures of the
// candidate and of the purchases stage one kept.
//
// It needs a running Ollama (https://ollama.com) with the models pulled:
//
//	ollama pull qwen2.5vl:3b
//	go run ./examples/ollama
//	go run ./examples/ollama -vision qwen2.5vl:7b -embed nomic-embed-text -query "leather boots"
//
// The server is OLLAMA_HOST (default http://127.0.0.1:11434) unless -host
// says otherwise. If the server cannot be reached or a model is missing, it
// says how to fix it and exits with status 1. On a laptop CPU, expect tens
// of seconds per shopper: each search makes one call per candidate.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/types/model"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
	"hmpps/internal/ollamacall"
)

// config is what the flags set.
type config struct {
	Host, Vision, Summarizer, Embed string
	Query                           string
	Top, Candidates                 int
	Timeout                         time.Duration
	Captions                        bool
}

func main() {
	var c config
	flag.StringVar(&c.Host, "host", "", "Ollama server (default: OLLAMA_HOST, else http://127.0.0.1:11434)")
	flag.StringVar(&c.Vision, "vision", "qwen2.5vl:3b", "vision model that judges the candidates")
	flag.StringVar(&c.Summarizer, "summarizer", "", "model that writes the summaries (default: the vision model)")
	flag.StringVar(&c.Embed, "embed", "", "embedding model, e.g. nomic-embed-text (default: the offline hashing embedder)")
	flag.StringVar(&c.Query, "query", democatalog.DefaultQuery, "what both shoppers search for")
	flag.IntVar(&c.Top, "top", 5, "how many results to show for each shopper")
	flag.IntVar(&c.Candidates, "candidates", 12, "how many candidates the model judges per search")
	flag.DurationVar(&c.Timeout, "timeout", 3*time.Minute, "limit on each model call")
	flag.BoolVar(&c.Captions, "captions", false, "caption every product picture at indexing time (one call per product)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, c); err != nil {
		fmt.Fprintln(os.Stderr, "ollama example:", err)
		os.Exit(1)
	}
}

// run checks the server and models, then searches as both demo shoppers
// and writes their rankings to w.
func run(ctx context.Context, w io.Writer, c config) (err error) {
	if c.Top < 1 || c.Candidates < 1 {
		return fmt.Errorf("-top and -candidates must be at least 1")
	}
	if err := checkServer(ctx, w, c); err != nil {
		return err
	}
	eng, err := hmpps.New(
		hmpps.WithOllama(hmpps.OllamaConfig{Host: c.Host, VisionModel: c.Vision, SummarizerModel: c.Summarizer,
			EmbedModel: c.Embed, Timeout: c.Timeout, Captions: c.Captions}),
		hmpps.WithRetrieveK(c.Candidates),
	)
	if err != nil {
		return fmt.Errorf("create engine: %w", err)
	}
	defer func() {
		if cerr := eng.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close engine: %w", cerr)
		}
	}()
	if err := eng.Upsert(ctx, democatalog.Products()...); err != nil {
		return fmt.Errorf("load catalog: %w", err)
	}
	fmt.Fprintf(w, "Query %q: %d candidates judged by %s for each shopper.\n", c.Query, c.Candidates, c.Vision)
	for _, u := range democatalog.Shoppers() {
		resp, err := eng.Search(ctx, hmpps.Request{Query: c.Query, HistoryIDs: u.HistoryIDs, TopN: c.Top, ExcludeHistory: true})
		if errors.Is(err, hmpps.ErrEmptyQuery) {
			return fmt.Errorf("-query must contain at least one word, got %q", c.Query)
		}
		if err != nil {
			return fmt.Errorf("search as %s: %w", u.Name, err)
		}
		report(w, u, resp)
	}
	return nil
}

// checkServer fails with how to fix it when the server cannot be reached or
// a model is missing, and notes a vision model that cannot see.
func checkServer(ctx context.Context, w io.Writer, c config) error {
	host := ollamacall.Host(c.Host)
	client := ollamacall.NewClient(c.Host, nil)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := client.Version(pingCtx); err != nil {
		return fmt.Errorf("cannot reach Ollama at %s: %v\nStart it with `ollama serve`, or point -host (or OLLAMA_HOST) at a running server", host, err)
	}
	for _, m := range []string{c.Vision, c.Summarizer, c.Embed} {
		if m == "" {
			continue
		}
		show, err := client.Show(pingCtx, &api.ShowRequest{Model: m})
		var serr api.StatusError
		if errors.As(err, &serr) && serr.StatusCode == 404 {
			return fmt.Errorf("model %q is not on the Ollama server at %s; fetch it with:\n\n    ollama pull %s", m, host, m)
		}
		if err != nil {
			return fmt.Errorf("ask Ollama at %s about %q: %w", host, m, err)
		}
		if m == c.Vision && !slices.Contains(show.Capabilities, model.CapabilityVision) {
			fmt.Fprintf(w, "Note: %q does not report the vision capability; it will judge on text only.\n", m)
		}
	}
	return nil
}

// report writes one shopper's ranking: P(yes) per result, what stage one
// kept, and what the search cost.
func report(w io.Writer, u democatalog.Shopper, resp *hmpps.Response) {
	fmt.Fprintf(w, "\n%s (%s)\n", u.Name, u.Taste)
	for i, r := range resp.Results {
		mark := ""
		if r.Degraded {
			mark = "  [fallback: " + firstLine(r.DegradedReason) + "]"
		}
		fmt.Fprintf(w, "%2d. P(yes) %.3f  %s%s\n", i+1, r.Score, r.Product.Title, mark)
		if r.Summary != "" {
			fmt.Fprintf(w, "    %s\n", r.Summary)
		}
	}
	titles := make([]string, len(resp.History))
	for i, k := range resp.History {
		titles[i] = k.Title
	}
	fmt.Fprintf(w, "Kept purchases: %s\n", strings.Join(titles, "; "))
	fmt.Fprintf(w, "%d model calls, %d prompt tokens, %d generated, %d cache hits; summaries %v, reranking %v\n",
		resp.Usage.ModelCalls, resp.Usage.PromptTokens, resp.Usage.GeneratedTokens, resp.Usage.CacheHits,
		resp.Timings.Summarize.Round(time.Millisecond), resp.Timings.Rerank.Round(time.Millisecond))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return s
}
