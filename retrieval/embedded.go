package retrieval

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Limits on what one record may hold. They bound every allocation made while
// reading an index file, and Upsert enforces them so that every index that
// can be built can also be saved and opened again.
const (
	// MaxDimension is the largest vector length an Embedded accepts.
	MaxDimension = 1 << 16
	// MaxIDLength is the largest ID, in bytes.
	MaxIDLength = 1 << 16
	// MaxMetadataFields is the most metadata entries one record may have.
	MaxMetadataFields = 1 << 12
	// MaxMetadataLength is the largest metadata key or value, in bytes.
	MaxMetadataLength = 1 << 20
)

// ErrRecordTooLarge reports a record whose ID or metadata exceeds
// MaxIDLength, MaxMetadataFields or MaxMetadataLength.
var ErrRecordTooLarge = errors.New("retrieval: record too large")

// vekParallelWork is the size of a matrix-vector product (rows × dim) from
// which vek32.MatMul_Into splits the rows across one new goroutine per CPU.
// It mirrors vek v0.4.3; should an upgrade move it, the allocation test of
// Search fails.
const vekParallelWork = 100_000

// maxBlockRows caps a scoring block so that its scores stay in L1 cache
// while the heap consumes them.
const maxBlockRows = 256

// minShrinkRows keeps small indexes from reallocating on every delete.
const minShrinkRows = 64

// Embedded is an in-memory Index that scans every vector on each search,
// which is exact and, with SIMD, fast enough for catalogues of up to a few
// hundred thousand products. With EmbeddedOptions.Quantize it scans an int8
// copy of the vectors instead, a quarter of the bytes or less, and rescores
// exactly every row that the quantization error leaves in reach of the top
// k, so that it returns what the exact scan returns, a million vectors in a
// few milliseconds.
//
// Vectors live in one dense row-major matrix, row i belonging to slot i;
// deletes move the last row into the hole so that a scan never meets a gap.
// Embedded is safe for concurrent use: searches share a read lock, writes
// take the write lock.
type Embedded struct {
	dim    int
	metric Metric
	// opts are the options the index was made with, defaults filled in.
	opts EmbeddedOptions
	// blockRows is the number of rows scored per kernel call; see scan.
	blockRows int
	// stride is the number of codes of a quantized row, dim; zero when
	// the index is not quantized.
	stride int
	// scratch holds *searchScratch values, so that concurrent searches each
	// get their own buffers without allocating per query.
	scratch sync.Pool
	// helpers lends idle goroutines to large scans. It starts on the first
	// scan that can use it, so that small indexes never start goroutines.
	helpers     *helperPool
	helpersOnce sync.Once

	mu sync.RWMutex
	// closed is written under mu but atomic, so that a call can fail fast
	// with ErrClosed before validating its arguments.
	closed atomic.Bool
	// matrix holds len(ids) rows of dim components.
	matrix []float32
	// codes and scales are the quantized copy of matrix, empty unless
	// opts.Quantize: codes holds blocks of codeBlockRows rows (see
	// dotsBlocks), the last one padded with zero rows, and matrix row i ≈
	// scales[i]·its codes.
	codes  []int8
	scales []float32
	// maxScale is the largest scale ever stored, and tiny the number of
	// rows whose scale is not a normal float32, so that a search can tell
	// that its bounds hold (see quantizedSafe).
	maxScale float32
	tiny     int
	ids      []string
	// meta[i] is slot i's metadata, nil when it has none.
	meta  []map[string]string
	slots map[string]int
}

var _ Index = (*Embedded)(nil)

// NewEmbedded returns an empty index for vectors of length dim, which must
// be between 1 and MaxDimension, scored by metric, with the default options:
// exact float32 scans.
func NewEmbedded(dim int, metric Metric) (*Embedded, error) {
	return NewEmbeddedWith(dim, metric, EmbeddedOptions{})
}

// NewEmbeddedWith is NewEmbedded with options.
func NewEmbeddedWith(dim int, metric Metric, opts EmbeddedOptions) (*Embedded, error) {
	if dim <= 0 || dim > MaxDimension {
		return nil, fmt.Errorf("retrieval: new embedded index: dimension %d outside [1, %d]", dim, MaxDimension)
	}
	if metric != Cosine && metric != InnerProduct {
		return nil, fmt.Errorf("retrieval: new embedded index: unknown metric %d", metric)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("retrieval: new embedded index: %w", err)
	}
	e := &Embedded{
		dim:    dim,
		metric: metric,
		opts:   opts,
		// Blocks stay under vek's parallel threshold (and at least 3 rows,
		// below its 4-row minimum for splitting), so every kernel call runs
		// on the calling goroutine.
		blockRows: min(maxBlockRows, max(3, (vekParallelWork-1)/dim)),
		slots:     make(map[string]int),
	}
	if opts.Quantize {
		e.stride = dim
	}
	e.scratch.New = func() any { return e.newScratch() }
	return e, nil
}

// Options returns the options the index was made with, defaults filled in.
func (e *Embedded) Options() EmbeddedOptions { return e.opts }

// Dimension returns the length every vector must have.
func (e *Embedded) Dimension() int { return e.dim }

// Metric returns how Search scores.
func (e *Embedded) Metric() Metric { return e.metric }

// minRecordsPerWorker is the smallest share of an Upsert batch worth a
// goroutine of its own.
const minRecordsPerWorker = 256

// Upsert inserts the records, replacing any with the same ID. The whole
// batch is validated first, so a bad record leaves the index unchanged.
// Vectors and metadata are copied; under Cosine the stored copy is
// normalized to unit length.
func (e *Embedded) Upsert(ctx context.Context, records ...Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.closed.Load() {
		return ErrClosed
	}
	// Validation needs no lock: it depends only on dim and metric, which
	// never change. Checking, copying and quantizing the vectors is spread
	// over the CPUs for a large batch; the first error in the batch's order
	// is the one returned.
	vectors := make([]float32, len(records)*e.dim)
	codes := make([]int8, len(records)*e.stride)
	scales := make([]float32, len(records)*min(e.stride, 1))
	metas := make([]map[string]string, len(records))
	vecErrs := make([]error, len(records))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(records)/minRecordsPerWorker))
	per := (len(records) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w * per; i < min(len(records), (w+1)*per); i++ {
				r := &records[i]
				v := vectors[i*e.dim : (i+1)*e.dim]
				if err := e.prepare(v, r.Vector); err != nil {
					vecErrs[i] = err
					continue
				}
				if e.stride > 0 {
					scales[i] = quantizeVector(codes[i*e.stride:(i+1)*e.stride], v)
				}
				metas[i] = cloneMetadata(r.Metadata)
			}
		})
	}
	wg.Wait()
	seen := make(map[string]struct{}, len(records))
	for i, r := range records {
		if r.ID == "" {
			return fmt.Errorf("retrieval: upsert record %d: %w", i, ErrEmptyID)
		}
		if _, dup := seen[r.ID]; dup {
			return fmt.Errorf("retrieval: upsert %q: %w", r.ID, ErrDuplicateID)
		}
		seen[r.ID] = struct{}{}
		if err := CheckRecord(r); err != nil {
			return fmt.Errorf("retrieval: upsert %q: %w", r.ID, err)
		}
		if err := vecErrs[i]; err != nil {
			return fmt.Errorf("retrieval: upsert %q: %w", r.ID, err)
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Load() {
		return ErrClosed
	}
	e.matrix = slices.Grow(e.matrix, len(vectors))
	if e.stride > 0 {
		e.scales = slices.Grow(e.scales, len(scales))
	}
	for i, r := range records {
		v := vectors[i*e.dim : (i+1)*e.dim]
		c := codes[i*e.stride : (i+1)*e.stride]
		if e.stride > 0 && tinyScale(scales[i], v) {
			e.tiny++
		}
		if slot, ok := e.slots[r.ID]; ok {
			if e.stride > 0 {
				if tinyScale(e.scales[slot], e.row(slot)) {
					e.tiny--
				}
				e.setCodes(slot, c, scales[i])
			}
			copy(e.row(slot), v)
			e.meta[slot] = metas[i]
			continue
		}
		slot := len(e.ids)
		e.slots[r.ID] = slot
		e.ids = append(e.ids, r.ID)
		e.meta = append(e.meta, metas[i])
		e.matrix = append(e.matrix, v...)
		if e.stride > 0 {
			e.growCodes(slot + 1)
			e.scales = append(e.scales, 0)
			e.setCodes(slot, c, scales[i])
		}
	}
	return nil
}

// prepare validates src and writes the vector to store into dst.
func (e *Embedded) prepare(dst, src []float32) error {
	if err := CheckVector(src, e.dim); err != nil {
		return err
	}
	copy(dst, src)
	if e.metric == Cosine {
		return Normalize(dst)
	}
	return nil
}

// CheckRecord returns an error for a record that no index accepts: one
// without an ID (wrapping ErrEmptyID), or one whose ID or metadata exceeds
// MaxIDLength, MaxMetadataFields or MaxMetadataLength (wrapping
// ErrRecordTooLarge). Index implementations outside this package call it,
// with CheckVector, so that every index accepts the same records.
func CheckRecord(r Record) error {
	if r.ID == "" {
		return ErrEmptyID
	}
	if len(r.ID) > MaxIDLength {
		return fmt.Errorf("%w: id of %d bytes exceeds %d", ErrRecordTooLarge, len(r.ID), MaxIDLength)
	}
	if len(r.Metadata) > MaxMetadataFields {
		return fmt.Errorf("%w: %d metadata fields exceed %d", ErrRecordTooLarge, len(r.Metadata), MaxMetadataFields)
	}
	for k, v := range r.Metadata {
		if len(k) > MaxMetadataLength || len(v) > MaxMetadataLength {
			return fmt.Errorf("%w: metadata field %.32q exceeds %d bytes", ErrRecordTooLarge, k, MaxMetadataLength)
		}
	}
	return nil
}

// cloneMetadata copies m so that the caller cannot change the index through
// it; empty metadata is stored as nil, as it reads back from a file.
func cloneMetadata(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// row returns slot's vector, aliasing the matrix.
func (e *Embedded) row(slot int) []float32 {
	return e.matrix[slot*e.dim : (slot+1)*e.dim : (slot+1)*e.dim]
}

// growCodes makes room in codes for n rows, a block at a time.
func (e *Embedded) growCodes(n int) {
	size := blockBytes(e.dim)
	if want := (n + codeBlockRows - 1) / codeBlockRows * size; len(e.codes) < want {
		e.codes = append(e.codes, make([]int8, want-len(e.codes))...)
	}
}

// setCodes stores row slot's codes (stride of them) and scale.
func (e *Embedded) setCodes(slot int, codes []int8, scale float32) {
	block := e.codes[slot/codeBlockRows*blockBytes(e.dim):]
	lane := slot % codeBlockRows
	for j, c := range codes {
		block[codeOffset(lane, j)] = c
	}
	e.scales[slot] = scale
	e.maxScale = max(e.maxScale, scale)
}

// rowCodes appends row slot's codes to dst.
func (e *Embedded) rowCodes(dst []int8, slot int) []int8 {
	block := e.codes[slot/codeBlockRows*blockBytes(e.dim):]
	lane := slot % codeBlockRows
	for j := range e.stride {
		dst = append(dst, block[codeOffset(lane, j)])
	}
	return dst
}

// Delete removes the records with these IDs; unknown IDs are ignored. The
// last row moves into each hole, so the matrix stays dense, and its memory
// is released once it is mostly empty.
func (e *Embedded) Delete(ctx context.Context, ids ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Load() {
		return ErrClosed
	}
	for _, id := range ids {
		slot, ok := e.slots[id]
		if !ok {
			continue
		}
		last := len(e.ids) - 1
		if e.stride > 0 {
			if tinyScale(e.scales[slot], e.row(slot)) {
				e.tiny--
			}
			// The codes of the last row move into the hole, and its lane
			// is left zero, as padding is.
			codes := e.rowCodes(make([]int8, 0, e.stride), last)
			e.setCodes(slot, codes, e.scales[last])
			e.setCodes(last, make([]int8, e.stride), 0)
		}
		if slot != last {
			copy(e.row(slot), e.row(last))
			e.ids[slot] = e.ids[last]
			e.meta[slot] = e.meta[last]
			e.slots[e.ids[slot]] = slot
		}
		// Clear the vacated tail so the backing arrays do not keep the
		// removed ID and metadata alive.
		e.ids[last] = ""
		e.meta[last] = nil
		e.ids = e.ids[:last]
		e.meta = e.meta[:last]
		e.matrix = e.matrix[:last*e.dim]
		if e.stride > 0 {
			e.codes = e.codes[:(last+codeBlockRows-1)/codeBlockRows*blockBytes(e.dim)]
			e.scales = e.scales[:last]
		}
		delete(e.slots, id)
	}
	e.shrink()
	return nil
}

// shrink releases memory once the slot arrays use under a quarter of their
// capacity.
func (e *Embedded) shrink() {
	e.ids = shrunk(e.ids, minShrinkRows)
	e.meta = shrunk(e.meta, minShrinkRows)
	e.matrix = shrunk(e.matrix, minShrinkRows*e.dim)
	e.codes = shrunk(e.codes, minShrinkRows*e.stride)
	e.scales = shrunk(e.scales, minShrinkRows)
}

// shrunk returns s, or a copy of it at twice its length when it uses under a
// quarter of a capacity of at least floor. The factor of two leaves room for
// upserts; the gap between it and a quarter keeps alternating upserts and
// deletes from reallocating every time.
func shrunk[T any](s []T, floor int) []T {
	if c := cap(s); c < floor || len(s) >= c/4 {
		return s
	}
	return append(make([]T, 0, 2*len(s)), s...)
}

// Get returns copies of the records with these IDs, in the order asked.
// Under Cosine the vectors are the stored, normalized ones.
func (e *Embedded) Get(ctx context.Context, ids ...string) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed.Load() {
		return nil, ErrClosed
	}
	out := make([]Record, len(ids))
	for i, id := range ids {
		slot, ok := e.slots[id]
		if !ok {
			return nil, fmt.Errorf("retrieval: get %q: %w", id, ErrNotFound)
		}
		out[i] = Record{
			ID:       id,
			Vector:   slices.Clone(e.row(slot)),
			Metadata: maps.Clone(e.meta[slot]),
		}
	}
	return out, nil
}

// ReadVectors copies the stored vectors of ids, one after another, into
// dst, which must hold len(ids)·Dimension() values; under Cosine they are
// the normalized ones. An unknown ID fails the call with an error wrapping
// ErrNotFound. It is Get without the allocations, for a caller that reads
// the vectors of a few hundred records per query.
func (e *Embedded) ReadVectors(ids []string, dst []float32) error {
	if len(dst) != len(ids)*e.dim {
		return fmt.Errorf("retrieval: read vectors: %d values for %d vectors of dimension %d: %w", len(dst), len(ids), e.dim, ErrDimensionMismatch)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed.Load() {
		return ErrClosed
	}
	for i, id := range ids {
		slot, ok := e.slots[id]
		if !ok {
			return fmt.Errorf("retrieval: read vectors %q: %w", id, ErrNotFound)
		}
		copy(dst[i*e.dim:(i+1)*e.dim], e.row(slot))
	}
	return nil
}

// Search returns up to k records that pass filter, most similar to query
// first, ties broken by ascending ID. k must be positive; a k above the
// number of records returns them all. Under Cosine the query is normalized
// (into a copy), so a zero query is an error. Scores and results are those
// of an exact scan in both modes: a quantized index rescores every row
// whose quantized score, widened by its error bound, could reach the top k
// (see EmbeddedOptions.Quantize).
//
// In the steady state the returned slice is the only allocation.
func (e *Embedded) Search(ctx context.Context, query []float32, k int, filter Filter) ([]Hit, error) {
	return e.search(ctx, query, k, filter, nil)
}

// SearchFunc is Search with a function for a filter: only records for
// whose ID keep returns true are returned. It is for a caller that holds
// what it filters on itself and gave the index no metadata. keep is called
// under the index's read lock, only for records that could make the top k,
// so it must be quick and must not call the index; it may be nil.
func (e *Embedded) SearchFunc(ctx context.Context, query []float32, k int, keep func(id string) bool) ([]Hit, error) {
	return e.search(ctx, query, k, nil, keep)
}

func (e *Embedded) search(ctx context.Context, query []float32, k int, filter Filter, keep func(id string) bool) ([]Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if e.closed.Load() {
		return nil, ErrClosed
	}
	if k <= 0 {
		return nil, fmt.Errorf("retrieval: search: k must be positive, got %d", k)
	}
	if err := CheckVector(query, e.dim); err != nil {
		return nil, fmt.Errorf("retrieval: search: %w", err)
	}
	if err := filter.Validate(); err != nil {
		return nil, fmt.Errorf("retrieval: search: %w", err)
	}

	s := e.scratch.Get().(*searchScratch)
	defer e.scratch.Put(s)
	copy(s.query, query)
	if e.metric == Cosine {
		if err := Normalize(s.query); err != nil {
			return nil, fmt.Errorf("retrieval: search: %w", err)
		}
	}
	if e.stride > 0 {
		s.setQuery()
	}

	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed.Load() {
		return nil, ErrClosed
	}
	if len(e.ids) == 0 {
		return nil, nil
	}
	return e.scan(ctx, s, k, filter, keep)
}

// Len returns the number of records.
func (e *Embedded) Len(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed.Load() {
		return 0, ErrClosed
	}
	return len(e.ids), nil
}

// Close releases the index's memory. Every later call, Close included,
// fails with ErrClosed.
func (e *Embedded) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Load() {
		return ErrClosed
	}
	e.closed.Store(true)
	e.matrix, e.ids, e.meta, e.slots = nil, nil, nil, nil
	e.codes, e.scales = nil, nil
	if e.helpers != nil {
		e.helpers.stop()
	}
	return nil
}
