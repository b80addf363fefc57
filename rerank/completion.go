package rerank

import (
	"context"
	"sync"
	"time"

	"github.com/ollama/ollama/api"

	"hmpps/internal/ollamacall"
)

// MLLMMode is how the MLLM reranker asks its model.
type MLLMMode int

const (
	// ModeChat sends the prompt as chat messages through /api/chat, so the
	// model's chat template wraps them. It suits instruction-tuned models
	// that follow a yes/no instruction.
	ModeChat MLLMMode = iota
	// ModeCompletion sends the prompt as one raw text through /api/generate
	// (raw: true, no template), a few-shot block of judged examples first,
	// ending in "Relevant:", so that the next token is " yes" or " no". It
	// suits small or base models that do not follow instructions: on the
	// Gemma 3 270M GGUF the chat prompt gets "A", the completion prompt a
	// yes/no with real log-probabilities.
	ModeCompletion
)

// String returns "chat" or "completion".
func (m MLLMMode) String() string {
	switch m {
	case ModeChat:
		return "chat"
	case ModeCompletion:
		return "completion"
	}
	return "unknown"
}

// DefaultCompletionTemplate is the prompt of ModeCompletion: System is a
// few-shot block of four judged examples (two yes, two no), Context the
// history and the query in the examples' layout, Candidate the candidate and
// the open "Relevant:" line. The raw prompt is the three concatenated, so
// everything but the candidate's last lines is the same for every candidate
// of a search and stays in the server's prompt cache.
var DefaultCompletionTemplate = PromptTemplate{
	System: "Shop search results judged for one customer each. Relevant: yes means this customer " +
		"would buy the candidate for this search, given what they bought before.\n\n" +
		"Bought before:\n1. Waterproof leather hiking boots\n2. Merino wool hiking socks\n" +
		"Search query: warm boots for winter hikes\n" +
		"Candidate: Insulated waterproof winter hiking boots with a grippy sole\nRelevant: yes\n\n" +
		"Bought before:\n1. Stainless steel chef's knife\n" +
		"Search query: cutting board\n" +
		"Candidate: Plastic toy race car for children\nRelevant: no\n\n" +
		"Bought before: nothing related\n" +
		"Search query: magazine about gardening\n" +
		"Candidate: Monthly magazine on vegetable gardens and flower beds\nRelevant: yes\n\n" +
		"Bought before:\n1. Vegan cookbook with plant-based recipes\n" +
		"Search query: cooking magazine\n" +
		"Candidate: Barbecue magazine: steaks, ribs and smoked meat\nRelevant: no\n\n",
	Context: "Bought before:{{if .History}}\n{{range .History}}{{.N}}.{{if .Picture}} [picture {{.Picture}}]{{end}} {{.Text}}\n{{end}}" +
		"{{else}} nothing related\n{{end}}" +
		"Search query: {{.Query}}\n",
	Candidate: "Candidate:{{if .Candidate.Picture}} [picture {{.Candidate.Picture}}]{{end}} {{.Candidate.Text}}\nRelevant:",
}

// Completion returns candidate i's raw completion prompt: System, Context
// and the candidate's text, concatenated as they are (the template holds
// the separators).
func (p *Prompt) Completion(i int) string {
	return p.System + p.Context + p.Candidates[i].Text
}

// capsKey identifies a model on a server for the capability cache.
type capsKey struct {
	client *api.Client
	model  string
}

// capsCache holds the capabilities each client's server reported per model,
// so that /api/show is asked once, not once per search.
var capsCache sync.Map // capsKey -> []string

// capabilities returns what the server says the model can do, asking once
// per client and model. A missing model gives an error wrapping
// ErrModelNotFound.
func (m MLLM) capabilities(ctx context.Context, timeout time.Duration) ([]string, error) {
	key := capsKey{m.Client, m.Model}
	if v, ok := capsCache.Load(key); ok {
		return v.([]string), nil
	}
	caps, err := ollamacall.Capabilities(ctx, m.Client, m.Model, timeout)
	if err != nil {
		return nil, err
	}
	capsCache.Store(key, caps)
	return caps, nil
}

// withoutImages returns req with every picture removed, for a model that
// cannot see them; the items' texts (summaries, captions) stay.
func withoutImages(req Request) (Request, bool) {
	dropped := false
	strip := func(items []Item) []Item {
		out := make([]Item, len(items))
		for i, it := range items {
			if len(it.Image) > 0 {
				dropped = true
				it.Image = nil
			}
			out[i] = it
		}
		return out
	}
	req.History, req.Candidates = strip(req.History), strip(req.Candidates)
	return req, dropped
}
