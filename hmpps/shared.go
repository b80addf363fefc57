package hmpps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"hmpps/internal/cooccur"
	"hmpps/internal/lru"
	"hmpps/retrieval"
	"hmpps/retrieval/lexical"
)

// Defaults of SharedCatalog.
const (
	// DefaultRefresh is how often an engine on a shared catalog reads what
	// other processes wrote to it.
	DefaultRefresh = time.Second
	// DefaultCatalogCacheBytes bounds the products an engine on a shared
	// catalog keeps read: some 25,000 products of 384-dimension vectors.
	DefaultCatalogCacheBytes = 64 << 20
)

// ErrSharedCatalog reports a call that needs the whole catalog in process,
// which an engine on a shared catalog does not hold.
var ErrSharedCatalog = errors.New("hmpps: the catalog is kept in the index (a shared catalog), not in this process")

// SharedCatalog configures an engine whose catalog is kept in its index,
// when the index is a retrieval.DocumentStore (a Milvus collection opened
// with milvus.Config{Catalog: true}): any number of engines, in any number
// of processes, then serve one catalog, and a write through one is seen by
// all. Such an engine keeps in process only its lexical index, which it
// builds from the store when it is made and keeps current by reading the
// store's changes every Refresh, and a bounded cache of the products it
// read. See WithSharedCatalog.
type SharedCatalog struct {
	// Refresh is how often the engine reads what was written to the
	// store since it last looked: the bound, with the time that read
	// takes, on how long another process's write stays unseen by this
	// engine's lexical index and cache. If zero, DefaultRefresh.
	Refresh time.Duration
	// CacheBytes bounds the products (record and vector) the engine keeps
	// read from the store, the most recently used first. If zero,
	// DefaultCatalogCacheBytes; negative keeps none.
	CacheBytes int64
}

// WithSharedCatalog sets how an engine on a shared catalog follows it (see
// SharedCatalog). An engine is on a shared catalog when its index is a
// retrieval.DocumentStore, with or without this option; New then opens it
// from what the store holds, whoever wrote it.
func WithSharedCatalog(s SharedCatalog) Option {
	return func(c *config) { c.shared = s }
}

// sharedState is what an engine on a shared catalog keeps of it.
type sharedState struct {
	store retrieval.DocumentStore
	// cache holds the products read last, by ID; a change read from the
	// store drops the product, so that the next read fetches it again.
	cache *lru.Cache[string, storedProduct]
	// cacheMu orders the cache's fills by reads with its updates by
	// writes and changes: version counts the updates, and a read fills
	// the cache with none of the products updated since it began, so
	// that a read a write overtook cannot put back what the write
	// replaced or removed.
	cacheMu sync.Mutex
	version uint64
	// updates holds the IDs of the last loggedUpdates updates, oldest
	// first.
	updates [][]string
	refresh time.Duration
	// mark is where the next read of changes starts; guarded by
	// Engine.writing, which catching up holds like a write.
	mark retrieval.Mark
	// caughtUp is when the engine last read the store's changes (Unix
	// nanoseconds), and failed the error of the last read that failed
	// since, if any.
	caughtUp atomic.Int64
	failed   atomic.Pointer[error]
	stop     context.CancelFunc
	done     chan struct{}
}

// storedProduct is a product as read from a shared catalog.
type storedProduct struct {
	rec    record
	vector []float32
}

// openShared fills the engine's lexical index from the store and starts
// following the store's changes.
func (e *Engine) openShared(ctx context.Context, store retrieval.DocumentStore) error {
	s := e.cfg.shared
	if s.Refresh < 0 {
		return fmt.Errorf("hmpps: SharedCatalog.Refresh must not be negative, got %v", s.Refresh)
	}
	if s.Refresh == 0 {
		s.Refresh = DefaultRefresh
	}
	if s.CacheBytes == 0 {
		s.CacheBytes = DefaultCatalogCacheBytes
	}
	maxEntries := 0
	if s.CacheBytes < 0 {
		// A cost bound of zero is no bound; one entry of a cost over it
		// is never stored.
		s.CacheBytes, maxEntries = 1, 1
	}
	e.shared = &sharedState{
		store:   store,
		refresh: s.Refresh,
		cache: lru.New[string, storedProduct](maxEntries, s.CacheBytes, func(p storedProduct) int64 {
			return int64(len(p.rec)) + 4*int64(len(p.vector)) + 64
		}),
	}
	mark, err := e.scanShared(ctx)
	if err != nil {
		return err
	}
	e.shared.mark = mark
	e.shared.caughtUp.Store(time.Now().UnixNano())
	follow, stop := context.WithCancel(context.Background())
	e.shared.stop, e.shared.done = stop, make(chan struct{})
	go e.follow(follow)
	return nil
}

// scanShared makes the lexical index hold exactly the store's products and
// returns the mark to read changes from.
func (e *Engine) scanShared(ctx context.Context) (retrieval.Mark, error) {
	seen := make(map[string]bool)
	mark, err := e.shared.store.Scan(ctx, func(docs []retrieval.Document) error {
		ids, analyses, err := analyzeDocuments(docs)
		if err != nil {
			return err
		}
		for _, id := range ids {
			seen[id] = true
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		e.lex.UpsertBatch(ids, analyses)
		e.shared.forget(ids)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("hmpps: read the shared catalog: %w", err)
	}
	var gone []string
	for _, id := range e.lex.IDs() {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lex.Delete(gone...)
	e.shared.forget(gone)
	return mark, nil
}

// analyzeDocuments checks the records of docs (none deleted) and returns
// their IDs and lexical analyses, on every CPU.
func analyzeDocuments(docs []retrieval.Document) ([]string, []lexical.Analysis, error) {
	ids := make([]string, len(docs))
	analyses := make([]lexical.Analysis, len(docs))
	errs := make([]error, len(docs))
	parallel(len(docs), minProductsPerWorker, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			rec := record(docs[i].Data)
			if err := rec.check(); err != nil {
				errs[i] = fmt.Errorf("hmpps: product %q in the shared catalog: %w", docs[i].ID, err)
				continue
			}
			if id := rec.id(); id != docs[i].ID {
				errs[i] = fmt.Errorf("hmpps: product %q in the shared catalog holds the record of %q: %w", docs[i].ID, id, errRecord)
				continue
			}
			ids[i] = docs[i].ID
			p := rec.product()
			_, doc := p.textFields()
			analyses[i] = lexical.Analyze(doc)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return ids, analyses, nil
}

// follow catches up with the store every refresh until ctx ends.
func (e *Engine) follow(ctx context.Context) {
	defer close(e.shared.done)
	t := time.NewTicker(e.shared.refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := e.catchUp(ctx); err != nil && ctx.Err() == nil {
			e.shared.failed.Store(&err)
			e.cfg.logger.Warn("hmpps: reading the shared catalog's changes failed; retrying", "err", err)
		}
	}
}

// catchUp reads the store's changes since the engine last did and applies
// them to the lexical index and the cache; when the store no longer keeps
// them, it scans the whole store again. It holds e.writing, so that no
// write of this engine lands between what it reads and what it applies.
func (e *Engine) catchUp(ctx context.Context) error {
	e.writing.Lock()
	defer e.writing.Unlock()
	if err := e.checkOpen(); err != nil {
		return err
	}
	s := e.shared
	mark, err := s.store.Changes(ctx, s.mark, e.applyChanges)
	if errors.Is(err, retrieval.ErrChangesLost) {
		mark, err = e.scanShared(ctx)
	}
	if err != nil {
		return err
	}
	s.mark = mark
	s.caughtUp.Store(time.Now().UnixNano())
	s.failed.Store(nil)
	return nil
}

// applyChanges applies changed documents to the lexical index and drops
// them from the cache.
func (e *Engine) applyChanges(docs []retrieval.Document) error {
	var deleted []string
	written := docs[:0:0]
	for _, d := range docs {
		if d.Deleted {
			deleted = append(deleted, d.ID)
		} else {
			written = append(written, d)
		}
	}
	ids, analyses, err := analyzeDocuments(written)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lex.Delete(deleted...)
	e.lex.UpsertBatch(ids, analyses)
	e.shared.forget(append(deleted, ids...))
	return nil
}

// fetch returns the stored products of ids, from the cache or, for the
// rest, from the store in one read; found[i] is false for an ID the store
// does not hold.
func (e *Engine) fetch(ctx context.Context, ids []string) ([]storedProduct, []bool, error) {
	s := e.shared
	out := make([]storedProduct, len(ids))
	found := make([]bool, len(ids))
	var missing []string
	var at []int
	for i, id := range ids {
		if p, ok := s.cache.Get(id); ok {
			out[i], found[i] = p, true
			continue
		}
		missing = append(missing, id)
		at = append(at, i)
	}
	if len(missing) == 0 {
		return out, found, nil
	}
	version := s.cacheVersion()
	docs, err := s.store.Documents(ctx, missing)
	if err != nil {
		return nil, nil, fmt.Errorf("hmpps: index: %w", err)
	}
	if len(docs) != len(missing) {
		return nil, nil, fmt.Errorf("hmpps: index: %d documents for %d IDs", len(docs), len(missing))
	}
	read := make([]string, 0, len(docs))
	products := make([]storedProduct, 0, len(docs))
	for j, d := range docs {
		if d.ID == "" {
			continue
		}
		rec := record(d.Data)
		if err := rec.check(); err != nil {
			return nil, nil, fmt.Errorf("hmpps: product %q in the shared catalog: %w", d.ID, err)
		}
		if len(d.Vector) != e.cfg.vectorDim() {
			return nil, nil, fmt.Errorf("hmpps: product %q in the shared catalog has a vector of %d dimensions, want %d: %w",
				d.ID, len(d.Vector), e.cfg.vectorDim(), retrieval.ErrDimensionMismatch)
		}
		// The vector is copied: the store's may share one array with the
		// whole answer's, which the cache would keep alive.
		p := storedProduct{rec: rec, vector: slices.Clone(d.Vector)}
		i := at[j]
		out[i], found[i] = p, true
		read, products = append(read, d.ID), append(products, p)
	}
	s.fill(version, read, products)
	return out, found, nil
}

// sharedEntries returns the entries of ids from the shared catalog, with
// the IDs it does not hold (each once).
func (e *Engine) sharedEntries(ctx context.Context, ids []string) ([]*entry, []string, error) {
	got, found, err := e.fetch(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*entry, 0, len(ids))
	var unknown []string
	for i, p := range got {
		if !found[i] {
			if !slices.Contains(unknown, ids[i]) {
				unknown = append(unknown, ids[i])
			}
			continue
		}
		out = append(out, newEntry(p.rec, p.vector))
	}
	return out, unknown, nil
}

// sharedLexical returns the lexical index's k best matches for the
// request's query that pass its filter. The filter reads the products'
// records, which are in the store: the search asks the lexical index for
// more each time, up to all it matches, until k pass.
func (e *Engine) sharedLexical(ctx context.Context, req *Request, k int) ([]retrieval.Hit, error) {
	search := func(depth int) []retrieval.Hit {
		e.mu.RLock()
		defer e.mu.RUnlock()
		return e.lex.Search(req.Query, depth, nil)
	}
	if len(req.Filter) == 0 {
		return search(k), nil
	}
	for depth := 4 * k; ; depth *= 2 {
		hits := search(depth)
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.ID
		}
		got, found, err := e.fetch(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make([]retrieval.Hit, 0, k)
		for i, h := range hits {
			if found[i] && req.Filter.MatchField(got[i].rec.field) {
				out = append(out, h)
				if len(out) == k {
					return out, nil
				}
			}
		}
		if len(hits) < depth {
			return out, nil
		}
	}
}

// writeShared writes a prepared batch to the shared catalog, then to the
// lexical index and the cache; the caller holds e.writing.
func (e *Engine) writeShared(ctx context.Context, batch []written, records []retrieval.Record, addOnly bool) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	ids := make([]string, len(batch))
	analyses := make([]lexical.Analysis, len(batch))
	docs := make([][]byte, len(batch))
	for i := range batch {
		ids[i], analyses[i], docs[i] = batch[i].id, batch[i].lexical, []byte(batch[i].rec)
	}
	if addOnly {
		_, found, err := e.fetch(ctx, ids)
		if err != nil {
			return err
		}
		for i, ok := range found {
			if ok {
				return fmt.Errorf("hmpps: add %q: already in the catalog: %w", ids[i], ErrDuplicateID)
			}
		}
	}
	if err := e.shared.store.UpsertDocuments(ctx, records, docs); err != nil {
		return fmt.Errorf("hmpps: index: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lex.UpsertBatch(ids, analyses)
	products := make([]storedProduct, len(batch))
	for i := range batch {
		products[i] = storedProduct{rec: batch[i].rec, vector: batch[i].vector}
	}
	e.shared.replace(ids, products)
	return nil
}

// deleteShared deletes ids from the shared catalog, then from the lexical
// index and the cache; the caller holds e.writing.
func (e *Engine) deleteShared(ctx context.Context, ids []string) error {
	if err := e.shared.store.Delete(ctx, ids...); err != nil {
		return fmt.Errorf("hmpps: index: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lex.Delete(ids...)
	e.shared.forget(ids)
	return nil
}

// sharedNeighbors is addNeighbors on a shared catalog.
func (e *Engine) sharedNeighbors(ctx context.Context, co cooccur.View, history, candidates []*entry, filter retrieval.Filter, n int) ([]*entry, error) {
	from := make([]string, len(history))
	for i, h := range history {
		from[i] = h.product.ID
	}
	skip := idSet(history)
	for _, c := range candidates {
		skip[c.product.ID] = true
	}
	ask := n
	if len(filter) > 0 {
		ask = 4 * n
	}
	related, err := co.Strongest(from, nil, neighborNormalization, ask, func(id string) bool {
		return !skip[id] && e.lex.Contains(id)
	})
	if err != nil {
		return nil, fmt.Errorf("hmpps: co-purchase neighbours: %w", err)
	}
	ids := make([]string, len(related))
	for i, r := range related {
		ids[i] = r.ID
	}
	found, _, err := e.sharedEntries(ctx, ids)
	if err != nil {
		return nil, err
	}
	added := 0
	for _, en := range found {
		if added == n {
			break
		}
		if filter.MatchField(en.field) {
			candidates = append(candidates, en)
			added++
		}
	}
	return candidates, nil
}

// CaughtUp reports, for an engine on a shared catalog, when it last read
// the writes made to the catalog by others (at New, then every
// SharedCatalog.Refresh), and the error of the last read that failed since,
// if any: a service's health check can refuse traffic to a replica that has
// fallen behind. For an engine that holds its catalog itself it returns
// the zero time and nil.
func (e *Engine) CaughtUp() (time.Time, error) {
	if e.shared == nil {
		return time.Time{}, nil
	}
	var err error
	if p := e.shared.failed.Load(); p != nil {
		err = *p
	}
	return time.Unix(0, e.shared.caughtUp.Load()), err
}
