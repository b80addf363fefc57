package hmpps

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"

	"hmpps/internal/htmltext"
	"hmpps/retrieval"
	"hmpps/retrieval/lexical"
)

// text returns the product's plain text as the embedder and summarizer see
// it: title, brand, category path, attributes (sorted by key, so the text is
// deterministic), the description without HTML and the caption.
func (p *Product) text() string {
	text, _ := p.textFields()
	return text
}

// textFields returns the product's text (see text) and its lexical fields:
// the title, the brand, the category path and the rest (attributes,
// description, caption) as the body. The fields are slices of the text, so
// they cost no memory of their own, and the HTML is parsed once for both.
func (p *Product) textFields() (string, lexical.Doc) {
	var b strings.Builder
	// spans holds each field's start and end in the text, in the order of
	// the fields of a LexicalDoc.
	var spans [4][2]int
	var started [4]bool
	const body = 3
	add := func(field int, s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteString(". ")
		}
		if !started[field] {
			spans[field][0], started[field] = b.Len(), true
		}
		b.WriteString(s)
		spans[field][1] = b.Len()
	}
	add(0, htmltext.Plain(p.Title))
	add(1, p.Brand)
	add(2, strings.Join(p.Category, " "))
	keys := slices.Sorted(maps.Keys(p.Attributes))
	for _, k := range keys {
		add(body, k+": "+p.Attributes[k])
	}
	add(body, htmltext.Plain(p.Description))
	if c := strings.TrimSpace(p.Caption); c != "" {
		add(body, "Picture: "+c)
	}
	text := b.String()
	field := func(i int) string { return text[spans[i][0]:spans[i][1]] }
	return text, lexical.Doc{Title: field(0), Brand: field(1), Category: field(2), Body: field(body)}
}

// header names the product in one line, "Title (Brand; Top > Sub)."; it
// is empty when the product has none of them.
func (p *Product) header() string { return header(p.Title, p.Brand, p.Category) }

// summaryText is what the summarizer reads: the description and, when there
// is one, the caption of the picture.
func (p *Product) summaryText() string { return summaryText(p.Description, p.Caption) }

// productText is a product's plain text and lexical fields (see
// Product.textFields).
type productText struct {
	text string
	lex  lexical.Doc
}

// productTexts returns the text of each product, on every CPU: parsing the
// HTML of a description is the part of a write that takes longest after
// embedding.
func productTexts(products []Product) []productText {
	out := make([]productText, len(products))
	parallel(len(products), minProductsPerWorker, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i].text, out[i].lex = products[i].textFields()
		}
	})
	return out
}

// minProductsPerWorker is the smallest share of a batch worth a goroutine
// of its own when preparing products.
const minProductsPerWorker = 32

// written is a product ready to be written: its ID, one string for the
// catalog, the index and the lexical index, its record, its fused vector
// and, for the catalog, the analysis of its text for the lexical index.
type written struct {
	id      string
	rec     record
	vector  []float32
	lexical lexical.Analysis
}

// prepare embeds the products (text in one batch, images one by one), fuses
// their vectors and encodes their records, analyzing their text for the
// lexical index when forCatalog is set; texts are the products'. It returns
// the text embedder's model work with them, and touches no engine state.
func (e *Engine) prepare(ctx context.Context, products []Product, texts []productText, forCatalog bool) ([]written, retrieval.Usage, error) {
	var usage retrieval.Usage
	out := make([]written, len(products))
	var embed []string
	var embedOf []int // index of each text to embed
	for i := range products {
		if len(products[i].TextVector) == 0 {
			embed = append(embed, texts[i].text)
			embedOf = append(embedOf, i)
		}
	}
	textVecs := make([][]float32, len(products))
	for i := range products {
		textVecs[i] = products[i].TextVector
	}
	if len(embed) > 0 {
		vecs, u, err := retrieval.EmbedWithUsage(ctx, e.cfg.textEmbedder, embed)
		usage = u
		if err != nil {
			return nil, usage, fmt.Errorf("hmpps: embed text: %w", err)
		}
		if len(vecs) != len(embed) {
			return nil, usage, fmt.Errorf("hmpps: embed text: embedder returned %d vectors for %d texts", len(vecs), len(embed))
		}
		for j, i := range embedOf {
			textVecs[i] = vecs[j]
		}
	}
	textDim, imageDim := e.cfg.textEmbedder.Dimension(), e.cfg.imageDim()
	pictures := make([][]byte, len(products))
	for i := range products {
		p := &products[i]
		if err := retrieval.CheckVector(textVecs[i], textDim); err != nil {
			return nil, usage, fmt.Errorf("hmpps: product %q: text vector: %w", p.ID, err)
		}
		imageVec, picture, err := e.embedImage(ctx, p)
		if err != nil {
			return nil, usage, fmt.Errorf("hmpps: product %q: %w", p.ID, err)
		}
		pictures[i] = picture
		out[i].vector, err = e.cfg.fusion.Product(textVecs[i], imageVec, textDim, imageDim)
		if err != nil {
			return nil, usage, fmt.Errorf("hmpps: product %q: %w", p.ID, err)
		}
	}
	// The records and the lexical analyses, on every CPU.
	parallel(len(products), minProductsPerWorker, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := &products[i]
			out[i].id = strings.Clone(p.ID)
			out[i].rec = encodeRecord(p, pictures[i])
			if forCatalog {
				out[i].lexical = lexical.Analyze(texts[i].lex)
			}
		}
	})
	return out, usage, nil
}

// embedImage returns the product's image vector and the encoded image it came
// from. A precomputed ImageVector wins; otherwise the first image with bytes
// or a local path is embedded. Remote URLs are references only: the offline
// engine never touches the network, so such products are text-only.
func (e *Engine) embedImage(ctx context.Context, p *Product) ([]float32, []byte, error) {
	if e.cfg.imageEmbedder == nil {
		return nil, nil, nil
	}
	if len(p.ImageVector) > 0 {
		if err := retrieval.CheckVector(p.ImageVector, e.cfg.imageDim()); err != nil {
			return nil, nil, fmt.Errorf("image vector: %w", err)
		}
		return p.ImageVector, firstImageData(p.Images), nil
	}
	for i, im := range p.Images {
		data, err := readImage(im)
		if err != nil {
			return nil, nil, fmt.Errorf("image %d: %w", i, err)
		}
		if data == nil {
			continue
		}
		v, err := e.cfg.imageEmbedder.EmbedImage(ctx, data)
		if err != nil {
			return nil, nil, fmt.Errorf("image %d: %w", i, err)
		}
		return v, data, nil
	}
	return nil, nil, nil
}

func firstImageData(images []Image) []byte {
	for _, im := range images {
		if len(im.Data) > 0 {
			return im.Data
		}
	}
	return nil
}

// maxImageFileBytes caps what readImage loads from disk, so that a wrong path
// cannot make the engine read a huge file into memory.
const maxImageFileBytes = 32 << 20

// readImage returns the image's bytes: Data, or the file a local URI names.
// It returns nil, nil for an image that is only a remote reference.
func readImage(im Image) ([]byte, error) {
	if len(im.Data) > 0 {
		return im.Data, nil
	}
	if im.URI == "" {
		return nil, nil
	}
	path := im.URI
	if u, err := url.Parse(im.URI); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		if u.Scheme != "file" {
			return nil, nil
		}
		path = u.Path
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	if st.Size() > maxImageFileBytes {
		return nil, fmt.Errorf("read image %s: %d bytes is over the %d byte limit: %w", path, st.Size(), maxImageFileBytes, retrieval.ErrInvalidImage)
	}
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("read image %s: %w", path, err)
	}
	return data, nil
}
