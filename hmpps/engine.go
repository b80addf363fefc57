package hmpps

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"

	"hmpps/internal/lru"

	"hmpps/retrieval"
	"hmpps/retrieval/lexical"
)

// Engine indexes a product catalog and serves personalized searches over it.
// It is safe for concurrent use: searches run in parallel with each other and
// with writes, and a search sees each product either before or after a
// concurrent write, never half-written.
type Engine struct {
	cfg config
	// ix finds candidates by vector; the products map below is the source
	// of truth for everything else.
	ix retrieval.Index
	// reader is ix when it lends its vectors and filters by function
	// (retrieval.VectorReader and retrieval.FuncSearcher, as the embedded
	// index does): the engine then keeps no vector of its own, gives the
	// index no metadata, and writes the index under mu, so that a search
	// reads a product's record and vector from the same moment. Nil
	// otherwise (Milvus): the engine keeps each vector in vectors and
	// writes the index outside mu.
	reader lendingIndex
	// lex scores the catalog's text against a query (BM25F). It is kept in
	// step with products: both are written under mu.
	lex *lexical.Index

	// writing serializes the writers (Upsert, Add, Delete, Close, Save), so
	// that the slow part of a write to a remote index, the index call (a
	// network round trip with Milvus), runs outside mu: searches wait only
	// for the short swap of products and lex that follows it. A search that
	// runs during the index call may find the index already written and the
	// catalog not yet; either way it sees each product before or after the
	// write.
	writing sync.Mutex
	mu      sync.RWMutex
	// products maps ID to the product's record (see record), immutable:
	// writes replace records, so a search may keep using the one it looked
	// up after the lock is released.
	products map[string]record
	// vectors maps ID to the product's fused vector when the index does
	// not lend them (reader is nil); its slices are immutable too.
	vectors map[string][]float32
	closed  bool

	// shared is the engine's view of a catalog kept in its index, when
	// the index is a retrieval.DocumentStore (see SharedCatalog); products
	// and vectors are then nil, and lex follows the store.
	shared *sharedState

	// seed hashes records into their recordKey, and preparedTexts keeps
	// the texts prepared last for the extractive summaries (see prepared).
	seed          maphash.Seed
	preparedTexts *lru.Cache[recordKey, preparedText]

	// usage is the model work done so far (see Engine.Usage).
	usage usageMeter
}

// lendingIndex is an index whose vectors the engine reads instead of
// keeping them (see Engine.reader).
type lendingIndex interface {
	retrieval.VectorReader
	retrieval.FuncSearcher
}

// New returns an Engine configured by opts; with none, it runs fully
// in-process (see the package documentation).
func New(opts ...Option) (*Engine, error) {
	return newEngine(context.Background(), opts)
}

// newEngine is New; ctx bounds making the index (see WithIndexFactory).
func newEngine(ctx context.Context, opts []Option) (*Engine, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	lex, err := lexical.New(cfg.lexical)
	if err != nil {
		return nil, fmt.Errorf("hmpps: %w", err)
	}
	ix, err := cfg.openIndex(ctx)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, ix: ix, lex: lex, products: make(map[string]record), seed: maphash.MakeSeed(),
		preparedTexts: lru.New[recordKey, preparedText](0, preparedCacheBytes, func(p preparedText) int64 { return p.cost })}
	if store, ok := ix.(retrieval.DocumentStore); ok {
		e.products = nil
		if err := e.openShared(ctx, store); err != nil {
			_ = ix.Close()
			return nil, err
		}
	} else if r, ok := ix.(lendingIndex); ok {
		e.reader = r
	} else {
		e.vectors = make(map[string][]float32)
	}
	e.usage.addIndex(cfg.probeUsage)
	return e, nil
}

// Upsert adds the products, replacing any with the same ID. The batch is
// all or nothing: if one product is invalid (empty ID, an ID twice, no text,
// a bad vector, an image that cannot be decoded), the call returns an error
// naming it and the catalog is unchanged.
func (e *Engine) Upsert(ctx context.Context, products ...Product) error {
	return e.write(ctx, products, false)
}

// Add is Upsert for new products only: an ID that is already in the catalog
// fails the batch with an error wrapping ErrDuplicateID.
func (e *Engine) Add(ctx context.Context, products ...Product) error {
	return e.write(ctx, products, true)
}

func (e *Engine) write(ctx context.Context, products []Product, addOnly bool) error {
	// The model work is counted whether or not the batch is written.
	var usage retrieval.Usage
	defer func() { e.usage.addIndex(usage) }()
	if err := e.checkOpen(); err != nil {
		return err
	}
	if len(products) == 0 {
		return nil
	}
	texts := productTexts(products)
	seen := make(map[string]bool, len(products))
	for i := range products {
		p := &products[i]
		if err := p.validateText(texts[i].text); err != nil {
			return err
		}
		if seen[p.ID] {
			return fmt.Errorf("hmpps: upsert %q: %w", p.ID, ErrDuplicateID)
		}
		seen[p.ID] = true
	}
	products, texts, usage, err := e.caption(ctx, products, texts)
	if err != nil {
		return err
	}
	// Embedding is the slow part and needs no lock.
	batch, embedUsage, err := e.prepare(ctx, products, texts, true)
	usage = usage.Add(embedUsage)
	if err != nil {
		return err
	}
	records := make([]retrieval.Record, len(batch))
	for i := range batch {
		records[i] = retrieval.Record{ID: batch[i].id, Vector: batch[i].vector}
		if e.reader == nil {
			records[i].Metadata = products[i].metadata()
		}
	}

	// No other writer runs until this one is done, so the catalog checked
	// here is the one the swap below replaces, and Close waits too.
	e.writing.Lock()
	defer e.writing.Unlock()
	if e.shared != nil {
		return e.writeShared(ctx, batch, records, addOnly)
	}
	if err := e.checkNew(batch, addOnly); err != nil {
		return err
	}
	if e.reader == nil {
		if err := e.ix.Upsert(ctx, records...); err != nil {
			return fmt.Errorf("hmpps: index: %w", err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.reader != nil {
		// An index that lends its vectors is written with the catalog, so
		// that no search reads a record and a vector of different moments;
		// it is in process, and quick.
		if err := e.ix.Upsert(ctx, records...); err != nil {
			return fmt.Errorf("hmpps: index: %w", err)
		}
	}
	ids := make([]string, len(batch))
	analyses := make([]lexical.Analysis, len(batch))
	for i := range batch {
		b := &batch[i]
		e.products[b.id] = b.rec
		if e.vectors != nil {
			e.vectors[b.id] = b.vector
		}
		ids[i], analyses[i] = b.id, b.lexical
	}
	e.lex.UpsertBatch(ids, analyses)
	return nil
}

// checkNew returns ErrClosed after Close and, for Add, an error wrapping
// ErrDuplicateID for a product whose ID is in the catalog.
func (e *Engine) checkNew(batch []written, addOnly bool) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return ErrClosed
	}
	if addOnly {
		for i := range batch {
			if _, ok := e.products[batch[i].id]; ok {
				return fmt.Errorf("hmpps: add %q: already in the catalog: %w", batch[i].id, ErrDuplicateID)
			}
		}
	}
	return nil
}

// Delete removes the products with these IDs. Unknown IDs are ignored, so
// Delete is idempotent.
func (e *Engine) Delete(ctx context.Context, ids ...string) error {
	e.writing.Lock()
	defer e.writing.Unlock()
	if err := e.checkOpen(); err != nil {
		return err
	}
	if e.shared != nil {
		return e.deleteShared(ctx, ids)
	}
	if e.reader == nil {
		if err := e.ix.Delete(ctx, ids...); err != nil {
			return fmt.Errorf("hmpps: index: %w", err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.reader != nil {
		if err := e.ix.Delete(ctx, ids...); err != nil {
			return fmt.Errorf("hmpps: index: %w", err)
		}
	}
	for _, id := range ids {
		delete(e.products, id)
		delete(e.vectors, id)
	}
	e.lex.Delete(ids...)
	return nil
}

// Get returns the product with this ID, or an error wrapping ErrNotFound.
func (e *Engine) Get(ctx context.Context, id string) (Product, error) {
	if err := ctx.Err(); err != nil {
		return Product{}, err
	}
	if e.shared != nil {
		if err := e.checkOpen(); err != nil {
			return Product{}, err
		}
		got, found, err := e.fetch(ctx, []string{id})
		if err != nil {
			return Product{}, err
		}
		if !found[0] {
			return Product{}, fmt.Errorf("hmpps: get %q: %w", id, ErrNotFound)
		}
		return got[0].rec.product(), nil
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return Product{}, ErrClosed
	}
	rec, ok := e.products[id]
	if !ok {
		return Product{}, fmt.Errorf("hmpps: get %q: %w", id, ErrNotFound)
	}
	return rec.product(), nil
}

// Len returns the number of products in the catalog; on a shared catalog,
// as this engine last read it (see SharedCatalog).
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.shared != nil {
		return e.lex.Len()
	}
	return len(e.products)
}

// Close releases the engine and its index, after the writes in flight.
// Later calls return ErrClosed; closing twice is harmless.
func (e *Engine) Close() error {
	if e.shared != nil {
		// Following the store takes e.writing: stopped first.
		e.shared.stop()
		<-e.shared.done
	}
	e.writing.Lock()
	defer e.writing.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	e.products, e.vectors = nil, nil
	if err := e.ix.Close(); err != nil && !errors.Is(err, retrieval.ErrClosed) {
		return fmt.Errorf("hmpps: close index: %w", err)
	}
	return nil
}

func (e *Engine) checkOpen() error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return ErrClosed
	}
	return nil
}

// lookup returns the entries for ids. If any is unknown, it returns an
// *UnknownIDsError naming every unknown one, with field saying which part
// of the request they came from.
func (e *Engine) lookup(field string, ids []string) ([]*entry, error) {
	return e.lookupContext(context.Background(), field, ids)
}

// lookupContext is lookup; ctx bounds reading a shared catalog.
func (e *Engine) lookupContext(ctx context.Context, field string, ids []string) ([]*entry, error) {
	if e.shared != nil {
		if err := e.checkOpen(); err != nil {
			return nil, err
		}
		out, unknown, err := e.sharedEntries(ctx, ids)
		if err != nil {
			return nil, err
		}
		if unknown != nil {
			return nil, &UnknownIDsError{Field: field, IDs: unknown}
		}
		return out, nil
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	recs := make([]record, len(ids))
	var unknown []string
	for i, id := range ids {
		rec, ok := e.products[id]
		if !ok && !slices.Contains(unknown, id) {
			unknown = append(unknown, id)
		}
		recs[i] = rec
	}
	if unknown != nil {
		return nil, &UnknownIDsError{Field: field, IDs: unknown}
	}
	return e.entries(ids, recs)
}
