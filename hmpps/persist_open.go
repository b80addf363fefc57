package hmpps

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"strings"

	"hmpps/retrieval"
)

// Open returns an Engine configured by opts holding the catalog saved at path
// by Save. The embedders and fusion weights must be the ones the file was
// made with; a file whose dimensions or weights differ is refused. A
// truncated or altered file fails with an error wrapping ErrCorruptFile. A
// model saved in the file is loaded as if by WithModel, unless opts hold a
// WithModel of their own (WithModel(nil) opens the engine untrained).
func Open(ctx context.Context, path string, opts ...Option) (*Engine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hmpps: open: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("hmpps: open: %w", err)
	}
	return openReader(ctx, path, bufio.NewReaderSize(f, 1<<20), st.Size(), opts)
}

// openData is Open on the file's bytes; path names the file in errors.
func openData(ctx context.Context, path string, data []byte, opts []Option) (*Engine, error) {
	return openReader(ctx, path, bytes.NewReader(data), int64(len(data)), opts)
}

// openReader is Open on r, which holds the file's size bytes.
func openReader(ctx context.Context, path string, r io.Reader, size int64, opts []Option) (*Engine, error) {
	version, left, err := readStart(r, size)
	if err != nil {
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	if version == fileVersion {
		return openSections(ctx, path, r, left, opts)
	}
	c, err := readLegacy(r, version, left)
	if err != nil {
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	return openContents(ctx, path, c, opts)
}

// readStart reads the magic and version of a file of size bytes from r,
// and returns the version and the bytes left.
func readStart(r io.Reader, size int64) (uint32, int64, error) {
	var start [len(fileMagic) + 4]byte
	if size < int64(len(start))+4 {
		return 0, 0, fmt.Errorf("%w: not an engine file or truncated", ErrCorruptFile)
	}
	if _, err := io.ReadFull(r, start[:]); err != nil || string(start[:len(fileMagic)]) != fileMagic {
		return 0, 0, fmt.Errorf("%w: not an engine file or truncated", ErrCorruptFile)
	}
	version := binary.LittleEndian.Uint32(start[len(fileMagic):])
	if version < 1 || version > fileVersion {
		return 0, 0, fmt.Errorf("%w: version %d, this library reads 1 to %d", ErrCorruptFile, version, fileVersion)
	}
	return version, size - int64(len(start)), nil
}

// readLegacy reads the rest of a file of version 1 or 2, a gob stream
// read whole, left bytes long.
func readLegacy(r io.Reader, version uint32, left int64) (*fileContents, error) {
	rest, err := io.ReadAll(io.LimitReader(r, left))
	if err != nil {
		return nil, fmt.Errorf("hmpps: read: %w", err)
	}
	var start [len(fileMagic) + 4]byte
	copy(start[:], fileMagic)
	binary.LittleEndian.PutUint32(start[len(fileMagic):], version)
	h, records, sections, err := decodeLegacy(append(start[:], rest...), version)
	if err != nil {
		return nil, err
	}
	return legacyContents(h, records, sections), nil
}

// readFile reads a file of any version from r, which holds size bytes,
// whole.
func readFile(r io.Reader, size int64) (*fileContents, error) {
	version, left, err := readStart(r, size)
	if err != nil {
		return nil, err
	}
	if version == fileVersion {
		return readSections(r, left)
	}
	return readLegacy(r, version, left)
}

// sectionReader reads the sections of a file of version 3, checking each.
type sectionReader struct {
	r io.Reader
	// left is how many bytes the file has left: no section may claim more.
	left int64
	crc  hash.Hash32
}

// next reads the head of the next section: its kind, version and size.
func (s *sectionReader) next() (kind string, version int, size int64, err error) {
	s.crc = crc32.New(castagnoli)
	n, err := s.uvarint()
	if err != nil || n > 64 {
		return "", 0, 0, fmt.Errorf("%w: section kind", ErrCorruptFile)
	}
	k := make([]byte, n)
	if err := s.read(k); err != nil {
		return "", 0, 0, err
	}
	v, err := s.uvarint()
	if err != nil || v > 1<<30 {
		return "", 0, 0, fmt.Errorf("%w: section %q version", ErrCorruptFile, k)
	}
	var sz [8]byte
	if err := s.read(sz[:]); err != nil {
		return "", 0, 0, err
	}
	size = int64(binary.LittleEndian.Uint64(sz[:]))
	if size < 0 || size > s.left-4 {
		return "", 0, 0, fmt.Errorf("%w: section %q of %d bytes, the file has %d left", ErrCorruptFile, k, size, s.left)
	}
	return string(k), int(v), size, nil
}

func (s *sectionReader) uvarint() (uint64, error) {
	var v uint64
	var b [1]byte
	for shift := uint(0); shift < 64; shift += 7 {
		if err := s.read(b[:]); err != nil {
			return 0, err
		}
		v |= uint64(b[0]&0x7f) << shift
		if b[0] < 0x80 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: bad number", ErrCorruptFile)
}

// read reads len(b) bytes of the current section.
func (s *sectionReader) read(b []byte) error {
	if int64(len(b)) > s.left {
		return fmt.Errorf("%w: truncated", ErrCorruptFile)
	}
	if _, err := io.ReadFull(s.r, b); err != nil {
		return fmt.Errorf("%w: truncated: %v", ErrCorruptFile, err)
	}
	s.left -= int64(len(b))
	s.crc.Write(b)
	return nil
}

// check reads the section's checksum and compares it.
func (s *sectionReader) check(kind string) error {
	want := s.crc.Sum32()
	var b [4]byte
	if int64(len(b)) > s.left {
		return fmt.Errorf("%w: truncated", ErrCorruptFile)
	}
	if _, err := io.ReadFull(s.r, b[:]); err != nil {
		return fmt.Errorf("%w: truncated: %v", ErrCorruptFile, err)
	}
	s.left -= 4
	if binary.LittleEndian.Uint32(b[:]) != want {
		return fmt.Errorf("%w: section %q: checksum mismatch (truncated or altered)", ErrCorruptFile, kind)
	}
	return nil
}

// payload reads a section of size bytes and checks it.
func (s *sectionReader) payload(kind string, size int64) ([]byte, error) {
	b := make([]byte, size)
	if err := s.read(b); err != nil {
		return nil, err
	}
	return b, s.check(kind)
}

// scanSections reads the sections of a file of version 3 from r, which has
// left bytes after its version, checking their order and their checksums,
// and hands each to visit, which reads its size bytes through s (payload,
// or read and check). The end section it reads itself.
func scanSections(r io.Reader, left int64, visit func(s *sectionReader, kind string, version int, size int64) error) error {
	s := &sectionReader{r: r, left: left}
	kinds := make(map[string]bool)
	vectors := false
	for i := 0; ; i++ {
		kind, version, size, err := s.next()
		if err != nil {
			return err
		}
		// The catalog's records first; then the other sections, then the
		// vectors, then the end.
		core := kind == sectionHeader || kind == sectionRecords || kind == sectionVectors || kind == sectionEnd
		switch {
		case i == 0 && kind != sectionHeader, i == 1 && kind != sectionRecords,
			i > 1 && (kind == sectionHeader || kind == sectionRecords),
			vectors && kind != sectionEnd, !vectors && kind == sectionEnd:
			return fmt.Errorf("%w: section %q out of place", ErrCorruptFile, kind)
		case kinds[kind]:
			return fmt.Errorf("%w: section %q twice", ErrCorruptFile, kind)
		case core && version != coreVersion:
			return fmt.Errorf("%w: section %q of version %d", ErrCorruptFile, kind, version)
		}
		kinds[kind] = true
		if kind != sectionEnd {
			vectors = vectors || kind == sectionVectors
			if err := visit(s, kind, version, size); err != nil {
				return err
			}
			continue
		}
		data, err := s.payload(kind, size)
		if err != nil {
			return err
		}
		n, k := binary.Uvarint(data)
		if k <= 0 || k != len(data) || n != uint64(i) {
			return fmt.Errorf("%w: the file ends after %d sections, says %d", ErrCorruptFile, i, n)
		}
		if s.left != 0 {
			return fmt.Errorf("%w: %d bytes after the end", ErrCorruptFile, s.left)
		}
		return nil
	}
}

// readVectors reads the vectors section, of size bytes, for h.
func readVectors(s *sectionReader, h *fileHeader, size int64) ([]float32, error) {
	dim := h.TextDim + h.ImageDim
	if size != int64(h.Count)*int64(dim)*4 {
		return nil, fmt.Errorf("%w: %d bytes of vectors for %d of dimension %d", ErrCorruptFile, size, h.Count, dim)
	}
	vectors := make([]float32, h.Count*dim)
	if err := readFloats(vectors, s.read); err != nil {
		return nil, err
	}
	return vectors, s.check(sectionVectors)
}

// readSections reads the sections of a file of version 3, which has left
// bytes after its version, whole.
func readSections(r io.Reader, left int64) (*fileContents, error) {
	c := &fileContents{}
	err := scanSections(r, left, func(s *sectionReader, kind string, version int, size int64) error {
		if kind == sectionVectors {
			var err error
			c.vectors, err = readVectors(s, &c.header, size)
			return err
		}
		data, err := s.payload(kind, size)
		if err != nil {
			return err
		}
		switch kind {
		case sectionHeader:
			return decodeHeader(data, &c.header, left)
		case sectionRecords:
			c.records, err = splitRecords(data, c.header.Count)
			return err
		default:
			c.sections = append(c.sections, fileSection{Kind: kind, Version: version, Data: data})
			return nil
		}
	})
	if err != nil {
		return nil, err
	}
	if len(c.sections) != c.header.Sections {
		return nil, fmt.Errorf("%w: %d sections, the header says %d", ErrCorruptFile, len(c.sections), c.header.Sections)
	}
	return c, nil
}

// openSections opens a file of version 3 from r, which has left bytes after
// its version, decoding each section while it reads the next: the records
// are checked and indexed by ID, and the lexical index restored, on their
// own goroutines while the vectors are read.
func openSections(ctx context.Context, path string, r io.Reader, left int64, opts []Option) (*Engine, error) {
	var (
		h        fileHeader
		sections []fileSection
		e        *Engine
		vectors  []float32
		catalog  chan loadedRecords
		lexical  chan restoredLexical
		// opening is newEngineFor's error, which says what it is about.
		opening error
	)
	err := scanSections(r, left, func(s *sectionReader, kind string, version int, size int64) error {
		if kind == sectionVectors {
			// Every other section is in: the model makes the engine, and
			// the lexical index restores while the vectors are read.
			if len(sections) != h.Sections {
				return fmt.Errorf("%w: %d sections, the header says %d", ErrCorruptFile, len(sections), h.Sections)
			}
			var err error
			if e, err = newEngineFor(ctx, path, h, sections, opts); err != nil {
				opening = err
				return err
			}
			lexical = make(chan restoredLexical, 1)
			go func() {
				ok, err := e.restoreLexical(sections)
				lexical <- restoredLexical{ok, err}
			}()
			vectors, err = readVectors(s, &h, size)
			return err
		}
		data, err := s.payload(kind, size)
		if err != nil {
			return err
		}
		switch kind {
		case sectionHeader:
			return decodeHeader(data, &h, left)
		case sectionRecords:
			catalog = make(chan loadedRecords, 1)
			go func() { catalog <- loadRecords(data, h.Count) }()
			return nil
		default:
			sections = append(sections, fileSection{Kind: kind, Version: version, Data: data})
			return nil
		}
	})
	// Whatever happened, the goroutines end before Open returns.
	var recs loadedRecords
	if catalog != nil {
		recs = <-catalog
	}
	var lex restoredLexical
	if lexical != nil {
		lex = <-lexical
	}
	if err == nil {
		err = errors.Join(recs.err, lex.err)
	}
	if err != nil {
		if e != nil {
			e.Close()
		}
		if opening != nil {
			return nil, opening
		}
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	e.products = recs.products
	if err := e.loadVectors(ctx, recs.ids, vectors); err != nil {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	if err := e.checkLexical(lex.ok); err != nil {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	return e, nil
}

// restoredLexical is what restoring the lexical index found.
type restoredLexical struct {
	ok  bool
	err error
}

// decodeHeader decodes the header section of a file of left bytes.
func decodeHeader(data []byte, h *fileHeader, left int64) error {
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(h); err != nil {
		return fmt.Errorf("%w: header: %v", ErrCorruptFile, err)
	}
	dim := int64(h.TextDim) + int64(h.ImageDim)
	if h.Count < 0 || h.TextDim <= 0 || h.ImageDim < 0 || dim > retrieval.MaxDimension ||
		int64(h.Count)*(dim*4+1) > left || h.Sections < 0 || int64(h.Sections) > left {
		return fmt.Errorf("%w: header %+v", ErrCorruptFile, *h)
	}
	return nil
}

// splitRecords returns the count records of a records section, each in a
// string of its own, so that a replaced product frees its memory; they are
// copied on every CPU.
func splitRecords(data []byte, count int) ([]record, error) {
	spans := make([][2]int, count)
	off := 0
	for i := range spans {
		n, k := binary.Uvarint(data[off:])
		if k <= 0 || n > uint64(len(data)-off-k) {
			return nil, fmt.Errorf("%w: record %d", ErrCorruptFile, i)
		}
		spans[i] = [2]int{off + k, off + k + int(n)}
		off = spans[i][1]
	}
	if off != len(data) {
		return nil, fmt.Errorf("%w: %d bytes after the records", ErrCorruptFile, len(data)-off)
	}
	records := make([]record, count)
	parallel(count, 4096, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			records[i] = record(data[spans[i][0]:spans[i][1]])
		}
	})
	return records, nil
}

// newEngineFor returns an engine configured by opts for a file of header h
// and sections, whose model, if any, it loads (before opts, so that their
// WithModel wins), after checking that its embedders and fusion are the
// file's.
func newEngineFor(ctx context.Context, path string, h fileHeader, sections []fileSection, opts []Option) (*Engine, error) {
	m, err := modelSection(sections)
	if err != nil {
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	if m != nil {
		opts = append([]Option{WithModel(m)}, opts...)
	}
	e, err := newEngine(ctx, opts)
	if err != nil {
		return nil, err
	}
	if e.shared != nil {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: %w: open it with New, which reads the catalog from the index", path, ErrSharedCatalog)
	}
	if h.TextDim != e.cfg.textEmbedder.Dimension() || h.ImageDim != e.cfg.imageDim() {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: file has text/image dimensions %d/%d, engine has %d/%d: %w",
			path, h.TextDim, h.ImageDim, e.cfg.textEmbedder.Dimension(), e.cfg.imageDim(), retrieval.ErrDimensionMismatch)
	}
	if h.Fusion != e.cfg.fusion {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: file was made with fusion %+v, engine has %+v", path, h.Fusion, e.cfg.fusion)
	}
	return e, nil
}

// openContents returns an engine configured by opts holding what c, a file
// read whole (of version 1 or 2), holds.
func openContents(ctx context.Context, path string, c *fileContents, opts []Option) (*Engine, error) {
	e, err := newEngineFor(ctx, path, c.header, c.sections, opts)
	if err != nil {
		return nil, err
	}
	recs := indexRecords(c.records)
	if err == nil {
		err = recs.err
	}
	if err == nil {
		e.products = recs.products
		err = e.loadVectors(ctx, recs.ids, c.vectors)
	}
	if err == nil {
		var ok bool
		if ok, err = e.restoreLexical(c.sections); err == nil {
			err = e.checkLexical(ok)
		}
	}
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	return e, nil
}

// loadedRecords are a file's records, checked, indexed by ID, with the IDs
// in the file's order.
type loadedRecords struct {
	ids      []string
	products map[string]record
	err      error
}

// loadRecords splits and indexes the records section data of count records.
func loadRecords(data []byte, count int) loadedRecords {
	records, err := splitRecords(data, count)
	if err != nil {
		return loadedRecords{err: err}
	}
	return indexRecords(records)
}

// indexRecords checks the records, on every CPU, and indexes them by ID.
func indexRecords(records []record) loadedRecords {
	n := len(records)
	out := loadedRecords{ids: make([]string, n), products: make(map[string]record, n)}
	errs := make([]error, n)
	parallel(n, 1024, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if err := records[i].check(); err != nil {
				errs[i] = fmt.Errorf("%w: record %d: %v", ErrCorruptFile, i, err)
				continue
			}
			out.ids[i] = strings.Clone(records[i].id())
		}
	})
	if err := errors.Join(errs...); err != nil {
		return loadedRecords{err: err}
	}
	for i, id := range out.ids {
		if _, dup := out.products[id]; dup {
			return loadedRecords{err: fmt.Errorf("%w: record %d: repeated product %q", ErrCorruptFile, i, id)}
		}
		out.products[id] = records[i]
	}
	return out
}

// loadVectors puts the catalog's vectors, ids[i]'s row i of vectors, into
// the index, and into the engine when the index does not lend them.
func (e *Engine) loadVectors(ctx context.Context, ids []string, vectors []float32) error {
	dim := e.cfg.vectorDim()
	if loader, ok := e.ix.(retrieval.Loader); ok && e.reader != nil {
		if err := loader.Load(ctx, ids, vectors); err != nil {
			return fmt.Errorf("%w: %w", ErrCorruptFile, err)
		}
		return nil
	}
	const batch = 4096
	for lo := 0; lo < len(ids); lo += batch {
		hi := min(lo+batch, len(ids))
		records := make([]retrieval.Record, hi-lo)
		for i := range records {
			id := ids[lo+i]
			v := vectors[(lo+i)*dim : (lo+i+1)*dim : (lo+i+1)*dim]
			if err := retrieval.CheckVector(v, dim); err != nil {
				return fmt.Errorf("%w: record %d: %v", ErrCorruptFile, lo+i, err)
			}
			records[i] = retrieval.Record{ID: id, Vector: v}
			if e.reader == nil {
				p := e.products[id].product()
				records[i].Metadata = p.metadata()
				e.vectors[id] = v
			}
		}
		if err := e.ix.Upsert(ctx, records...); err != nil {
			return err
		}
	}
	return nil
}
