package hmpps

import (
	"hash/maphash"

	"hmpps/summarize"
)

// preparedCacheBytes bounds the texts the engine keeps prepared for the
// extractive summaries (see Engine.prepared): about five thousand product
// descriptions.
const preparedCacheBytes = 8 << 20

// recordKey names a product's record in the engine's caches: its ID and a
// hash of the record, so that a cache holds neither the records nor a
// record that was replaced.
type recordKey struct {
	id  string
	sum uint64
}

// recordKey returns en's key.
func (e *Engine) recordKey(en *entry) recordKey {
	return recordKey{id: en.product.ID, sum: maphash.String(e.seed, string(en.rec))}
}

// preparedText is a cached prepared text and what it costs the cache.
type preparedText struct {
	p    *summarize.Prepared
	cost int64
}

// prepared returns en's summary text, which is text, prepared for the
// extractive summaries by the plan's preparer: the configured summarizer
// when it is extractive, else the offline fallback's. The catalog keeps no
// prepared text (it would double a product's memory), so a search prepares
// the texts it summarizes, its results offline; the engine keeps the last
// ones prepared, up to preparedCacheBytes, since the same products come back
// in many searches.
func (e *Engine) prepared(en *entry, text string) *summarize.Prepared {
	key := e.recordKey(en)
	if c, ok := e.preparedTexts.Get(key); ok {
		return c.p
	}
	p := e.cfg.plan.preparer.Prepare(text)
	// The plain text, its sentences and their term hashes: about twice
	// the text.
	e.preparedTexts.Add(key, preparedText{p: p, cost: int64(2*len(text) + 256)})
	return p
}
