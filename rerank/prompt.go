package rerank

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/ollama/ollama/api"
)

// PromptTemplate is the MLLM reranker's yes/no prompt. It has three parts,
// sent as three chat messages in this order:
//
//  1. System, the instruction (plain text, the system message);
//  2. Context, what every candidate of a request shares: the kept history
//     (each item's text and picture) and the query, rendered once per
//     request from ContextData, with the history items' pictures attached;
//  3. Candidate, one candidate (text and picture) and the question,
//     rendered per candidate from CandidateData, with its picture attached.
//
// Because the shared part is rendered once and sent first, it is identical,
// byte for byte and picture for picture, in every request of a search, and
// Ollama evaluates it once and reuses its prompt cache for the other
// candidates; only the last message differs. A replacement template keeps
// that property as long as Context does not use the candidate.
//
// Context and Candidate are text/template sources. Pictures are attached to
// their message in order, and Ollama shows a message's pictures before its
// text; PromptItem.Picture numbers them across the whole prompt so that the
// text can refer to them.
type PromptTemplate struct {
	// System is the instruction, sent as the system message.
	System string
	// Context is a text/template over ContextData.
	Context string
	// Candidate is a text/template over CandidateData.
	Candidate string
}

// DefaultPromptTemplate is the prompt of the paper's pointwise judgement:
// would this user buy this candidate for this query, given the purchases
// stage one kept? It asks for a single word so that the first generated
// token carries the decision.
var DefaultPromptTemplate = PromptTemplate{
	System: "You help an online shop rank search results for one customer. You are shown " +
		"products this customer bought before that relate to the search, the search query, and " +
		"one candidate product, with pictures where available. Decide whether this customer " +
		"would buy the candidate for this search: it must fit what the query asks for, and it " +
		"should suit the taste, style and quality level their purchases show. " +
		"Answer with one word: yes or no.",
	Context: "{{if .History}}Products this customer bought before that relate to the search:\n" +
		"{{range .History}}{{.N}}.{{if .Picture}} [picture {{.Picture}}]{{end}} {{.Text}}\n{{end}}" +
		"{{else}}This customer bought nothing before that relates to the search.\n{{end}}" +
		"\nSearch query: {{.Query}}",
	Candidate: "Candidate product:{{if .Candidate.Picture}} [picture {{.Candidate.Picture}}]{{end}} {{.Candidate.Text}}\n\n" +
		"Would this customer buy the candidate product for this search? Answer yes or no.",
}

// PromptItem is a product as a prompt template sees it.
type PromptItem struct {
	// N is the item's 1-based position in its list.
	N int
	// ID is the product's ID. The default template does not show it: IDs
	// mean nothing to a model and would cost tokens.
	ID string
	// Text is the product's text, usually its query-aware summary.
	Text string
	// Picture is the 1-based number of the item's picture among all the
	// prompt's pictures, or 0 when it has none.
	Picture int
}

// ContextData is what PromptTemplate.Context renders.
type ContextData struct {
	// Query is the user's query.
	Query string
	// History holds the kept history items, most relevant first.
	History []PromptItem
}

// CandidateData is what PromptTemplate.Candidate renders.
type CandidateData struct {
	// Query is the user's query, for templates that repeat it.
	Query string
	// Candidate is the product to judge.
	Candidate PromptItem
}

// Prompt is a rendered prompt for one request: the shared part, then each
// candidate's own part.
type Prompt struct {
	// System is the instruction.
	System string
	// Context is the shared text: history and query.
	Context string
	// ContextImages are the history items' pictures, in order.
	ContextImages [][]byte
	// Candidates are the candidates' parts, in request order.
	Candidates []CandidatePrompt
}

// CandidatePrompt is one candidate's part of a Prompt.
type CandidatePrompt struct {
	// ID is the candidate's product ID.
	ID string
	// Text is the rendered candidate message.
	Text string
	// Image is the candidate's picture, attached to its message, or nil.
	Image []byte
}

// Validate parses the template and renders it on a small example, so that
// a broken replacement fails at configuration time, not at the first search.
func (t PromptTemplate) Validate() error {
	sample := Item{ID: "sample", Text: "A sample product.", Image: []byte{1}}
	_, err := t.Render("sample query", []Item{sample}, []Item{sample})
	return err
}

// Render fills the template for a query, its kept history and the
// candidates. An item has a picture when its Image is not empty.
func (t PromptTemplate) Render(query string, history, candidates []Item) (*Prompt, error) {
	if strings.TrimSpace(t.Candidate) == "" {
		return nil, fmt.Errorf("%w: prompt template has no candidate part", ErrInvalidConfig)
	}
	ctxT, err := template.New("context").Option("missingkey=error").Parse(t.Context)
	if err != nil {
		return nil, fmt.Errorf("%w: prompt template context: %w", ErrInvalidConfig, err)
	}
	candT, err := template.New("candidate").Option("missingkey=error").Parse(t.Candidate)
	if err != nil {
		return nil, fmt.Errorf("%w: prompt template candidate: %w", ErrInvalidConfig, err)
	}
	p := &Prompt{System: t.System, Candidates: make([]CandidatePrompt, len(candidates))}
	data := ContextData{Query: query, History: make([]PromptItem, len(history))}
	for i, h := range history {
		data.History[i] = PromptItem{N: i + 1, ID: h.ID, Text: h.Text}
		if len(h.Image) > 0 {
			p.ContextImages = append(p.ContextImages, h.Image)
			data.History[i].Picture = len(p.ContextImages)
		}
	}
	var b strings.Builder
	if err := ctxT.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("%w: prompt template context: %w", ErrInvalidConfig, err)
	}
	p.Context = b.String()
	for i, c := range candidates {
		item := PromptItem{N: i + 1, ID: c.ID, Text: c.Text}
		if len(c.Image) > 0 {
			item.Picture = len(p.ContextImages) + 1
		}
		b.Reset()
		if err := candT.Execute(&b, CandidateData{Query: query, Candidate: item}); err != nil {
			return nil, fmt.Errorf("%w: prompt template candidate: %w", ErrInvalidConfig, err)
		}
		p.Candidates[i] = CandidatePrompt{ID: c.ID, Text: b.String(), Image: c.Image}
	}
	return p, nil
}

// Messages returns the chat messages for candidate i: the system message
// (when System is not empty), the shared context with the history pictures,
// then the candidate with its picture.
func (p *Prompt) Messages(i int) []api.Message {
	msgs := make([]api.Message, 0, 3)
	if p.System != "" {
		msgs = append(msgs, api.Message{Role: "system", Content: p.System})
	}
	if p.Context != "" || len(p.ContextImages) > 0 {
		msgs = append(msgs, api.Message{Role: "user", Content: p.Context, Images: imageData(p.ContextImages)})
	}
	c := p.Candidates[i]
	last := api.Message{Role: "user", Content: c.Text}
	if len(c.Image) > 0 {
		last.Images = []api.ImageData{c.Image}
	}
	return append(msgs, last)
}

// Text returns candidate i's prompt as one string: the messages' texts
// joined by blank lines. It is what prompt sizes are measured on and what
// training records carry; pictures are not in it.
func (p *Prompt) Text(i int) string {
	parts := make([]string, 0, 3)
	for _, m := range p.Messages(i) {
		parts = append(parts, m.Content)
	}
	return strings.Join(parts, "\n\n")
}

// Images returns candidate i's pictures in the order they are attached:
// the history's, then the candidate's.
func (p *Prompt) Images(i int) [][]byte {
	out := append([][]byte(nil), p.ContextImages...)
	if img := p.Candidates[i].Image; len(img) > 0 {
		out = append(out, img)
	}
	return out
}

func imageData(images [][]byte) []api.ImageData {
	if len(images) == 0 {
		return nil
	}
	out := make([]api.ImageData, len(images))
	for i, im := range images {
		out[i] = im
	}
	return out
}
