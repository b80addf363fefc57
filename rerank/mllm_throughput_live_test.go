package rerank

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hmpps/internal/ollamacall"
	"hmpps/internal/ollamalive"
)

// callTimer records the wall time of every model call through it.
type callTimer struct {
	mu    sync.Mutex
	calls []time.Duration
}

func (c *callTimer) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := http.DefaultTransport.RoundTrip(r)
	if r.URL.Path == "/api/generate" || r.URL.Path == "/api/chat" {
		c.mu.Lock()
		c.calls = append(c.calls, time.Since(start))
		c.mu.Unlock()
	}
	return resp, err
}

// throughputRequest is a search of eight candidates whose shared part (the
// history and the query) is new for every i, so that its first call finds
// nothing of it in the server's cache but the instruction every search
// shares. The history comes first in the prompt, so it is what must change:
// a new query alone would leave the history cached from the search before.
func throughputRequest(i int) Request {
	req := Request{
		Query: fmt.Sprintf("digital lab thermometer %d", i),
		History: []Item{
			{ID: "h1", Text: fmt.Sprintf("Order %d: glass beakers, set of five, borosilicate, 50 to 1000 ml, for lab and kitchen", i)},
			{ID: "h2", Text: "Nitrile gloves, powder free, box of 100, size M, for lab and cleaning work"},
			{ID: "h3", Text: "Stainless steel lab spatula set with flat and spoon ends, 6 pieces"},
		},
	}
	for c := range 8 {
		req.Candidates = append(req.Candidates, Item{ID: fmt.Sprint("c", c),
			Text: fmt.Sprintf("Product %d: a digital thermometer with a steel probe, range -50 to 300 C, accuracy 0.%d C, battery included", c, c+1)})
	}
	return req
}

// BenchmarkJudgeLive measures what judging costs per candidate on a private
// server of scripts/ollama.sh's binary with 1 and 2 parallel slots
// (OLLAMA_NUM_PARALLEL), one judge call per slot at a time, for the model
// of HMPPS_OLLAMA_MODEL and each of HMPPS_OLLAMA_INSTRUCT_MODELS, in both
// modes: the first call of a search (the shared history and query
// evaluated) and the later ones (the shared part from the slot's cache),
// and the wall time per candidate.
//
//	HMPPS_OLLAMA_INSTRUCT=all scripts/ollama.sh run go test -run '^$' -bench JudgeLive -benchtime 3x ./rerank/
func BenchmarkJudgeLive(b *testing.B) {
	env := ollamalive.Require(b)
	models := append([]string{env.Model}, strings.Fields(os.Getenv("HMPPS_OLLAMA_INSTRUCT_MODELS"))...)
	for _, slots := range []int{1, 2} {
		b.Run(fmt.Sprintf("slots=%d", slots), func(b *testing.B) {
			ctx := context.Background()
			srv := ollamalive.Start(ctx, b, env, fmt.Sprintf("OLLAMA_NUM_PARALLEL=%d", slots), "OLLAMA_MAX_LOADED_MODELS=1")
			for _, model := range models {
				for _, mode := range []MLLMMode{ModeCompletion, ModeChat} {
					b.Run(fmt.Sprintf("%s/%s", model, mode), func(b *testing.B) {
						timer := &callTimer{}
						m := MLLM{Client: ollamacall.NewClient(srv.Host, &http.Client{Transport: timer}), Model: model, Mode: mode,
							Concurrency: slots, Timeout: 10 * time.Minute}
						if _, err := m.Rerank(ctx, throughputRequest(-1)); err != nil { // loads the model
							b.Fatal(err)
						}
						timer.calls = nil
						var first, later, prompt, calls float64
						b.ResetTimer()
						for i := range b.N {
							before := len(timer.calls)
							res, err := m.Rerank(ctx, throughputRequest(i))
							if err != nil {
								b.Fatal(err)
							}
							for _, s := range res.Scores {
								if s.Degraded {
									b.Logf("%s degraded: %s", s.ID, s.Reason)
								}
							}
							ts := slices.Clone(timer.calls[before:])
							slices.Sort(ts)
							// With one slot the first call is the slowest; with
							// more, the first of each slot.
							for j, d := range ts {
								if j >= len(ts)-slots {
									first += d.Seconds() * 1000
								} else {
									later += d.Seconds() * 1000
								}
							}
							prompt += float64(res.Usage.PromptTokens)
							calls += float64(res.Usage.ModelCalls)
						}
						b.StopTimer()
						n := float64(b.N)
						b.ReportMetric(b.Elapsed().Seconds()*1000/(n*8), "ms/candidate")
						b.ReportMetric(first/(n*float64(slots)), "ms/first")
						b.ReportMetric(later/(n*float64(8-slots)), "ms/later")
						b.ReportMetric(prompt/calls, "prompt-tokens/call")
					})
				}
			}
		})
	}
}
