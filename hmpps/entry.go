package hmpps

import (
	"context"
	"fmt"
	"strings"

	"hmpps/internal/htmltext"
	"hmpps/retrieval"
)

// entry is a product as a search, a training export or Train reads it: its
// record, the fields the stages compare, decoded once, and its fused
// vector. Entries are made for the products a call reads, history items and
// candidates, not kept: the catalog keeps records (see record).
type entry struct {
	rec record
	// product holds the fields of the record that the stages compare.
	product productView
	// vector is the fused multimodal vector stored in the index.
	vector []float32
}

// productView is what an entry decodes of its record at once: the fields
// that stages compare for every history item and candidate. The rest is
// decoded from the record by the few that need it.
type productView struct {
	ID, Title, Brand string
	Category         []string
}

// entries returns the entries of ids, whose records are recs (the catalog's,
// in order); the caller holds e.mu, so that records and vectors are of one
// moment. The entries share two allocations: the vectors, read from the
// index when it lends them, and the category paths.
func (e *Engine) entries(ids []string, recs []record) ([]*entry, error) {
	out := make([]*entry, len(ids))
	slab := make([]entry, len(ids))
	levels := make([]string, 0, 4*len(ids))
	dim := e.cfg.vectorDim()
	var vectors []float32
	if e.reader != nil {
		vectors = make([]float32, len(ids)*dim)
		if err := e.reader.ReadVectors(ids, vectors); err != nil {
			return nil, fmt.Errorf("hmpps: index: %w", err)
		}
	}
	for i, id := range ids {
		en := &slab[i]
		en.rec = recs[i]
		levels = en.view(levels)
		if vectors != nil {
			en.vector = vectors[i*dim : (i+1)*dim : (i+1)*dim]
		} else {
			en.vector = e.vectors[id]
		}
		out[i] = en
	}
	return out, nil
}

// view decodes en.product from en.rec, appending the category path to
// levels, whose memory it shares, and returns levels.
func (en *entry) view(levels []string) []string {
	r, id, title, brand := en.rec.head()
	en.product = productView{ID: id, Title: title, Brand: brand}
	start := len(levels)
	n, isNil := r.count(1)
	for range n {
		levels = append(levels, r.string())
	}
	if !isNil {
		en.product.Category = levels[start:len(levels):len(levels)]
	}
	return levels
}

// newEntry returns the entry of a product given with its record and vector
// (a history item given as a product).
func newEntry(rec record, vector []float32) *entry {
	en := &entry{rec: rec, vector: vector}
	en.view(nil)
	return en
}

// field returns the value of a filterable field (see Product.field).
func (en *entry) field(key string) (string, bool) { return en.rec.field(key) }

// summaryText is what the summarizer reads (see Product.summaryText).
func (en *entry) summaryText() string {
	r, desc := en.rec.description()
	r.skipAttributes()
	n, _ := r.count(2)
	for range n {
		r.nullable()
		r.string()
	}
	return summaryText(desc, r.string())
}

// text returns the product's plain text (see Product.text).
func (en *entry) text() string {
	p := en.rec.product()
	return p.text()
}

// header names the product in one line (see Product.header).
func (en *entry) header() string {
	return header(en.product.Title, en.product.Brand, en.product.Category)
}

// text returns the product's plain text (see Product.text), for a record.
func (rec record) text() string {
	p := rec.product()
	return p.text()
}

// header names a product in one line, "Title (Brand; Top > Sub)."; it is
// empty when the product has none of them.
func header(title, brand string, category []string) string {
	title = strings.TrimSpace(htmltext.Plain(title))
	var about []string
	if b := strings.TrimSpace(brand); b != "" {
		about = append(about, b)
	}
	if len(category) > 0 {
		about = append(about, strings.Join(category, " > "))
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

// summaryText is what the summarizer reads of a product: the description
// and, when there is one, the caption of the picture.
func summaryText(description, caption string) string {
	c := strings.TrimSpace(caption)
	if c == "" {
		return description
	}
	return description + "\n\nPicture: " + c
}

// hitEntries returns the entries of the retrieved hits that are still in
// the catalog, with their fused scores: a product deleted since the index
// answered is skipped.
func (e *Engine) hitEntries(ctx context.Context, hits []retrieval.Hit) ([]*entry, []float64, error) {
	if e.shared != nil {
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.ID
		}
		got, found, err := e.fetch(ctx, ids)
		if err != nil {
			return nil, nil, err
		}
		out := make([]*entry, 0, len(hits))
		fused := make([]float64, 0, len(hits))
		for i, h := range hits {
			if found[i] {
				out = append(out, newEntry(got[i].rec, got[i].vector))
				fused = append(fused, float64(h.Score))
			}
		}
		return out, fused, nil
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	ids := make([]string, 0, len(hits))
	recs := make([]record, 0, len(hits))
	fused := make([]float64, 0, len(hits))
	for _, h := range hits {
		if rec, ok := e.products[h.ID]; ok {
			ids = append(ids, h.ID)
			recs = append(recs, rec)
			fused = append(fused, float64(h.Score))
		}
	}
	out, err := e.entries(ids, recs)
	return out, fused, err
}

// vectorSearch asks the vector index for the k best matches of qvec that
// pass filter. An index that lends its vectors holds no metadata: it is
// given the filter as a function over the catalog's records, under e.mu,
// which writers take before they write such an index.
func (e *Engine) vectorSearch(ctx context.Context, qvec []float32, k int, filter retrieval.Filter) ([]retrieval.Hit, error) {
	if e.reader == nil {
		return e.ix.Search(ctx, qvec, k, filter)
	}
	if len(filter) == 0 {
		return e.reader.SearchFunc(ctx, qvec, k, nil)
	}
	if err := filter.Validate(); err != nil {
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.reader.SearchFunc(ctx, qvec, k, func(id string) bool {
		rec, ok := e.products[id]
		return ok && filter.MatchField(rec.field)
	})
}
