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
func (p *Product) header() string {
	title := strings.TrimSpace(htmltext.Plain(p.Title))
	var about []string
	if b := strings.TrimSpace(p.Brand); b != "" {
		about = append(about, b)
	}
	if len(p.Category) > 0 {
		about = append(about, strings.Join(p.Category, " > "))
	}
	h := title
	if len(about) > 0 {
		if h != "" {
			h += " "
		}
		h += "(" + strings.Join(about, "; ") + ")"
	}
	if h == "" {
		return ""
	}
	return strings.TrimRight(h, ".") + "."
}

// summaryText is what the summarizer reads: the description and, when there
// is one, the caption of the picture.
func (p *Product) summaryText() string {
	c := strings.TrimSpace(p.Caption)
	if c == "" {
		return p.Description
	}
	return p.Description + "\n\nPicture: " + c
}

// clone returns a deep copy of p, so that the engine never shares memory
// with its caller.
func (p Product) clone() Product {
	p.Category = slices.Clone(p.Category)
	p.Attributes = maps.Clone(p.Attributes)
	p.TextVector = slices.Clone(p.TextVector)
	p.ImageVector = slices.Clone(p.ImageVector)
	if p.Images != nil {
		imgs := make([]Image, len(p.Images))
		for i, im := range p.Images {
			imgs[i] = Image{Data: slices.Clone(im.Data), URI: im.URI}
		}
		p.Images = imgs
	}
	return p
}

// prepare embeds the products (text in one batch, images one by one) and
// fuses their vectors, returning the text embedder's model work with them.
// It touches no engine state.
func (e *Engine) prepare(ctx context.Context, products []Product) ([]*entry, retrieval.Usage, error) {
	var usage retrieval.Usage
	entries := make([]*entry, len(products))
	var texts []string
	var textOf []int // entries index of each text to embed
	for i := range products {
		en := &entry{product: products[i].clone()}
		e.prepareText(en)
		entries[i] = en
		if len(en.product.TextVector) == 0 {
			texts = append(texts, en.text)
			textOf = append(textOf, i)
		}
	}
	textVecs := make([][]float32, len(entries))
	for i, en := range entries {
		textVecs[i] = en.product.TextVector
	}
	if len(texts) > 0 {
		vecs, u, err := retrieval.EmbedWithUsage(ctx, e.cfg.textEmbedder, texts)
		usage = u
		if err != nil {
			return nil, usage, fmt.Errorf("hmpps: embed text: %w", err)
		}
		if len(vecs) != len(texts) {
			return nil, usage, fmt.Errorf("hmpps: embed text: embedder returned %d vectors for %d texts", len(vecs), len(texts))
		}
		for j, i := range textOf {
			textVecs[i] = vecs[j]
		}
	}
	textDim, imageDim := e.cfg.textEmbedder.Dimension(), e.cfg.imageDim()
	for i, en := range entries {
		id := en.product.ID
		if err := retrieval.CheckVector(textVecs[i], textDim); err != nil {
			return nil, usage, fmt.Errorf("hmpps: product %q: text vector: %w", id, err)
		}
		imageVec, image, err := e.embedImage(ctx, &en.product)
		if err != nil {
			return nil, usage, fmt.Errorf("hmpps: product %q: %w", id, err)
		}
		en.image = image
		en.vector, err = e.cfg.fusion.Product(textVecs[i], imageVec, textDim, imageDim)
		if err != nil {
			return nil, usage, fmt.Errorf("hmpps: product %q: %w", id, err)
		}
	}
	return entries, usage, nil
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
