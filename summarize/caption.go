package summarize

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"hmpps/internal/htmltext"
)

// DefaultCaptionWords is the word budget of a caption.
const DefaultCaptionWords = 30

// ErrNoImage reports a caption request for a document without a picture.
var ErrNoImage = errors.New("summarize: document has no image")

// Caption describes doc's picture in at most maxWords words
// (DefaultCaptionWords if maxWords <= 0): what the product is and what can be
// seen of it, independent of any query. Captions are made once per product
// at indexing time and stored with it, so that the text-only stages (the
// embedder, the summaries, a text reranker) see visual facts too. The model
// must be a vision model. Captions share the summary cache, keyed by the
// picture's and title's content.
func (p *Perspective) Caption(ctx context.Context, doc Document, maxWords int) (Summary, error) {
	if len(doc.Image) == 0 {
		return Summary{}, fmt.Errorf("summarize: caption %q: %w", doc.ID, ErrNoImage)
	}
	if maxWords <= 0 {
		maxWords = DefaultCaptionWords
	}
	title := cleanLine(htmltext.Plain(doc.Title))
	prompt := "This is the picture of a product sold as " + strconv.Quote(title) + ".\n\n" +
		"Describe what the picture shows in at most " + strconv.Itoa(maxWords) + " words: the kind " +
		"of product, its colours, material, shape and style, and any visible text or logo. Only what " +
		"you can see; plain text, no preamble."
	key := p.key("caption", doc.ID, maxWords, title, doc.Image)
	s, usage, err := p.generate(ctx, key, prompt, doc.Image, maxWords)
	if err != nil {
		return Summary{Usage: usage}, fmt.Errorf("summarize: caption %q: %w", doc.ID, err)
	}
	return Summary{Text: s, Usage: usage}, nil
}
