package retrieval

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// Load fills an empty index at once: ids[i]'s vector is row i of vectors
// (len(ids)·Dimension() values), and no record has metadata. The index
// keeps both slices instead of copying them, vectors as its matrix, so the
// caller must not use them afterwards, whether or not Load succeeds. Checking the records, normalizing them under Cosine
// and quantizing them are spread over the CPUs, which is what makes it
// faster than Upsert for opening a large saved catalog. A record that
// Upsert would refuse fails the call, as does an index that is not empty;
// either way the index is left empty.
func (e *Embedded) Load(ctx context.Context, ids []string, vectors []float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(vectors) != len(ids)*e.dim {
		return fmt.Errorf("retrieval: load: %d values for %d vectors of dimension %d: %w", len(vectors), len(ids), e.dim, ErrDimensionMismatch)
	}
	slots := make(map[string]int, len(ids))
	for i, id := range ids {
		if err := CheckRecord(Record{ID: id}); err != nil {
			return fmt.Errorf("retrieval: load record %d: %w", i, err)
		}
		if _, dup := slots[id]; dup {
			return fmt.Errorf("retrieval: load %q: %w", id, ErrDuplicateID)
		}
		slots[id] = i
	}
	n := len(ids)
	var codes []int8
	var scales []float32
	if e.stride > 0 {
		codes = make([]int8, (n+codeBlockRows-1)/codeBlockRows*blockBytes(e.dim))
		scales = make([]float32, n)
	}
	// Workers take whole blocks of rows, so that no two write the same
	// block of codes.
	workers := max(1, min(runtime.GOMAXPROCS(0), (n+codeBlockRows-1)/codeBlockRows))
	per := (n + workers - 1) / workers
	per = (per + codeBlockRows - 1) / codeBlockRows * codeBlockRows
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min(n, (w+1)*per)
		if lo >= hi {
			break
		}
		wg.Go(func() {
			row := make([]int8, e.stride)
			for i := lo; i < hi; i++ {
				v := vectors[i*e.dim : (i+1)*e.dim]
				if err := e.prepare(v, v); err != nil {
					errs[w] = fmt.Errorf("retrieval: load %q: %w", ids[i], err)
					return
				}
				if e.stride == 0 {
					continue
				}
				scales[i] = quantizeVector(row, v)
				block := codes[i/codeBlockRows*blockBytes(e.dim):]
				for j, c := range row {
					block[codeOffset(i%codeBlockRows, j)] = c
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Load() {
		return ErrClosed
	}
	if len(e.ids) > 0 {
		return fmt.Errorf("retrieval: load into an index of %d records; Load fills an empty index", len(e.ids))
	}
	e.ids, e.slots, e.meta, e.matrix = ids, slots, make([]map[string]string, n), vectors
	e.codes, e.scales = codes, scales
	for i, s := range scales {
		e.maxScale = max(e.maxScale, s)
		if tinyScale(s, vectors[i*e.dim:(i+1)*e.dim]) {
			e.tiny++
		}
	}
	return nil
}
