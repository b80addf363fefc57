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
	"slices"
	"strings"

	"hmpps/internal/atomicfile"
	"hmpps/retrieval"
)

// The engine file: fileMagic, a uint32 version, then, from version 3,
// sections one after another, each of them
//
//	kind       uvarint length and bytes
//	version    uvarint, the kind's own
//	length     uint64, little-endian
//	payload    length bytes
//	checksum   uint32, little-endian: CRC-32C of the section up to here
//
// in this order: "header" (a gob of fileHeader), "records" (Count records,
// each a uvarint length and the record's bytes, in ascending ID order, see
// record), "vectors" (their fused vectors, Count·(TextDim+ImageDim)
// little-endian float32s, in the same order), the fileSections ("lexical",
// "model", and kinds a later library may add), and "end", whose payload is
// the number of sections before it. A section is checked before it is
// decoded, and the sections of a large catalog decode on every CPU: the
// records and vectors are read as they are stored, so Open derives nothing
// from them but their indexes.
//
// Versions: 1 holds the catalog only, in a gob stream; 2 adds the sections
// to it; 3 is the layout above. Open reads all three (see persist_legacy.go).
const (
	fileMagic   = "HMPPSENG"
	fileVersion = 3
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileHeader records the configuration the vectors were made with, so that
// Open can refuse a file whose vectors mean something else.
type fileHeader struct {
	TextDim, ImageDim int
	Fusion            retrieval.VectorFusion
	Count             int
	// Sections is how many fileSections follow the records; a version 1
	// file has none (gob leaves the field zero).
	Sections int
}

// fileSection is what the engine keeps beside the catalog, by kind, so that
// a new kind of state is a new section, not a new layout. Open ignores a kind
// it does not know, and rebuilds from the catalog a section whose Version it
// does not read; state that must not be ignored needs a new file version.
type fileSection struct {
	Kind string
	// Version is the kind's own version.
	Version int
	Data    []byte
}

// The kinds of section.
const (
	// sectionLexical holds the lexical index's statistics
	// (lexical.Index.MarshalBinary), so that Open need not tokenize the
	// catalog. Its version is that of the engine's lexical fields
	// (Product.textFields): what the statistics count.
	sectionLexical        = "lexical"
	sectionLexicalVersion = 1
	// sectionModel holds the trained model (WithModel) as a model file
	// (Model.WriteTo, with its own magic, version and checksum).
	sectionModel        = "model"
	sectionModelVersion = 1
)

// The kinds of the sections of version 3 that hold the catalog itself.
const (
	sectionHeader  = "header"
	sectionRecords = "records"
	sectionVectors = "vectors"
	sectionEnd     = "end"
	// coreVersion is their version.
	coreVersion = 1
)

// fileContents is what a file holds, decoded: what Open makes an engine of.
type fileContents struct {
	header fileHeader
	// records are in the file's order, vectors their fused vectors one
	// after the other.
	records  []record
	vectors  []float32
	sections []fileSection
}

// Save writes the catalog, its vectors, its lexical index and its trained
// model (WithModel), if any, to one file at path, atomically: a crash or
// error mid-save leaves the previous file intact. Writes that happen during
// Save wait for it, so the file holds the catalog of one moment; searches
// go on.
func (e *Engine) Save(ctx context.Context, path string) error {
	e.writing.Lock()
	defer e.writing.Unlock()
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return ErrClosed
	}
	// Sorted, so that saving the same catalog twice gives the same bytes.
	ids := make([]string, 0, len(e.products))
	for id := range e.products {
		ids = append(ids, id)
	}
	e.mu.RUnlock()
	slices.Sort(ids)
	// No writer runs until Save returns, so the catalog, the vectors and
	// the lexical index stay as they are now.
	sections, err := e.fileSections()
	if err != nil {
		return fmt.Errorf("hmpps: save %s: %w", path, err)
	}
	h := fileHeader{TextDim: e.cfg.textEmbedder.Dimension(), ImageDim: e.cfg.imageDim(), Fusion: e.cfg.fusion}
	err = atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := e.writeFile(ctx, bw, h, ids, sections); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("hmpps: save %s: %w", path, err)
	}
	return nil
}

// writeFile writes the catalog of ids as a file of the current version with
// h's configuration, filling in h's counts. The caller keeps writers out.
func (e *Engine) writeFile(ctx context.Context, w io.Writer, h fileHeader, ids []string, sections []fileSection) error {
	e.mu.RLock()
	records := make([]record, len(ids))
	for i, id := range ids {
		records[i] = e.products[id]
	}
	e.mu.RUnlock()
	dim := e.cfg.vectorDim()
	vectors := func(lo, hi int, dst []float32) error {
		e.mu.RLock()
		defer e.mu.RUnlock()
		if e.reader != nil {
			return e.reader.ReadVectors(ids[lo:hi], dst)
		}
		for i, id := range ids[lo:hi] {
			copy(dst[i*dim:(i+1)*dim], e.vectors[id])
		}
		return nil
	}
	return encodeFile3(ctx, w, h, dim, records, vectors, sections)
}

// encodeFile3 writes a file of version 3: h (its counts filled in), the
// records, their vectors, which vectors copies into dst for records
// [lo, hi), and the sections.
func encodeFile3(ctx context.Context, w io.Writer, h fileHeader, dim int, records []record, vectors func(lo, hi int, dst []float32) error, sections []fileSection) error {
	if _, err := io.WriteString(w, fileMagic); err != nil {
		return err
	}
	if err := binary.Write(w, binary.LittleEndian, uint32(fileVersion)); err != nil {
		return err
	}
	h.Count, h.Sections = len(records), len(sections)
	var head bytes.Buffer
	if err := gob.NewEncoder(&head).Encode(h); err != nil {
		return err
	}
	sw := sectionWriter{w: w}
	sw.section(sectionHeader, coreVersion, head.Bytes())

	var size uint64
	for _, r := range records {
		size += uint64(uvarintLen(uint64(len(r))) + len(r))
	}
	sw.begin(sectionRecords, coreVersion, size)
	var lenBuf [binary.MaxVarintLen64]byte
	for i, r := range records {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		sw.write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(r)))])
		sw.writeString(string(r))
	}
	sw.end()

	sw.begin(sectionVectors, coreVersion, uint64(len(records))*uint64(dim)*4)
	const chunk = 4096
	buf := make([]float32, chunk*dim)
	for lo := 0; lo < len(records); lo += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+chunk, len(records))
		v := buf[:(hi-lo)*dim]
		if err := vectors(lo, hi, v); err != nil {
			return err
		}
		sw.write(littleEndianBytes(v))
	}
	sw.end()

	for _, s := range sections {
		if s.Kind == sectionHeader || s.Kind == sectionRecords || s.Kind == sectionVectors || s.Kind == sectionEnd {
			return fmt.Errorf("a section may not be called %q", s.Kind)
		}
		sw.section(s.Kind, s.Version, s.Data)
	}
	sw.section(sectionEnd, coreVersion, binary.AppendUvarint(nil, uint64(3+len(sections))))
	return sw.err
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// sectionWriter writes sections, each with its checksum; its first error
// sticks.
type sectionWriter struct {
	w   io.Writer
	crc hash.Hash32
	err error
}

func (s *sectionWriter) write(b []byte) {
	if s.err != nil {
		return
	}
	s.crc.Write(b)
	_, s.err = s.w.Write(b)
}

func (s *sectionWriter) writeString(str string) {
	if s.err != nil {
		return
	}
	io.WriteString(s.crc, str)
	_, s.err = io.WriteString(s.w, str)
}

// begin starts a section of size bytes.
func (s *sectionWriter) begin(kind string, version int, size uint64) {
	s.crc = crc32.New(castagnoli)
	b := binary.AppendUvarint(nil, uint64(len(kind)))
	b = append(b, kind...)
	b = binary.AppendUvarint(b, uint64(version))
	b = binary.LittleEndian.AppendUint64(b, size)
	s.write(b)
}

// end writes the section's checksum.
func (s *sectionWriter) end() {
	if s.err != nil {
		return
	}
	_, s.err = s.w.Write(binary.LittleEndian.AppendUint32(nil, s.crc.Sum32()))
}

func (s *sectionWriter) section(kind string, version int, payload []byte) {
	s.begin(kind, version, uint64(len(payload)))
	s.write(payload)
	s.end()
}

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
	c, err := readFile(bufio.NewReaderSize(f, 1<<20), st.Size())
	if err != nil {
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	return openContents(ctx, path, c, opts)
}

// openData is Open on the file's bytes; path names the file in errors.
func openData(ctx context.Context, path string, data []byte, opts []Option) (*Engine, error) {
	c, err := readFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	return openContents(ctx, path, c, opts)
}

// readFile reads a file of any version from r, which holds size bytes.
func readFile(r io.Reader, size int64) (*fileContents, error) {
	var start [len(fileMagic) + 4]byte
	if size < int64(len(start))+4 {
		return nil, fmt.Errorf("%w: not an engine file or truncated", ErrCorruptFile)
	}
	if _, err := io.ReadFull(r, start[:]); err != nil || string(start[:len(fileMagic)]) != fileMagic {
		return nil, fmt.Errorf("%w: not an engine file or truncated", ErrCorruptFile)
	}
	version := binary.LittleEndian.Uint32(start[len(fileMagic):])
	switch {
	case version == 1 || version == 2:
		// The gob stream of the first versions is read whole.
		rest, err := io.ReadAll(io.LimitReader(r, size))
		if err != nil {
			return nil, fmt.Errorf("hmpps: read: %w", err)
		}
		h, records, sections, err := decodeLegacy(append(start[:], rest...), version)
		if err != nil {
			return nil, err
		}
		return legacyContents(h, records, sections), nil
	case version == fileVersion:
		return readSections(r, size-int64(len(start)))
	default:
		return nil, fmt.Errorf("%w: version %d, this library reads 1 to %d", ErrCorruptFile, version, fileVersion)
	}
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

// readSections reads the sections of a file of version 3, which has left
// bytes after its version.
func readSections(r io.Reader, left int64) (*fileContents, error) {
	s := &sectionReader{r: r, left: left}
	c := &fileContents{}
	kinds := make(map[string]bool)
	for i := 0; ; i++ {
		kind, version, size, err := s.next()
		if err != nil {
			return nil, err
		}
		// The catalog comes first, in order; then the other sections.
		want := []string{sectionHeader, sectionRecords, sectionVectors}
		if i < len(want) && kind != want[i] || i >= len(want) && slices.Contains(want, kind) {
			return nil, fmt.Errorf("%w: section %q out of place", ErrCorruptFile, kind)
		}
		if kinds[kind] {
			return nil, fmt.Errorf("%w: section %q twice", ErrCorruptFile, kind)
		}
		kinds[kind] = true
		if i < len(want) && version != coreVersion || kind == sectionEnd && version != coreVersion {
			return nil, fmt.Errorf("%w: section %q of version %d", ErrCorruptFile, kind, version)
		}
		switch kind {
		case sectionHeader:
			data, err := s.payload(kind, size)
			if err != nil {
				return nil, err
			}
			if err := decodeHeader(data, &c.header, left); err != nil {
				return nil, err
			}
		case sectionRecords:
			data, err := s.payload(kind, size)
			if err != nil {
				return nil, err
			}
			if c.records, err = splitRecords(data, c.header.Count); err != nil {
				return nil, err
			}
		case sectionVectors:
			dim := c.header.TextDim + c.header.ImageDim
			if size != int64(c.header.Count)*int64(dim)*4 {
				return nil, fmt.Errorf("%w: %d bytes of vectors for %d of dimension %d", ErrCorruptFile, size, c.header.Count, dim)
			}
			c.vectors = make([]float32, c.header.Count*dim)
			if err := readFloats(c.vectors, s.read); err != nil {
				return nil, err
			}
			if err := s.check(kind); err != nil {
				return nil, err
			}
		case sectionEnd:
			data, err := s.payload(kind, size)
			if err != nil {
				return nil, err
			}
			n, k := binary.Uvarint(data)
			if k <= 0 || k != len(data) || n != uint64(i) || len(c.sections) != c.header.Sections {
				return nil, fmt.Errorf("%w: the file ends after %d sections, says %d", ErrCorruptFile, i, n)
			}
			if s.left != 0 {
				return nil, fmt.Errorf("%w: %d bytes after the end", ErrCorruptFile, s.left)
			}
			return c, nil
		default:
			data, err := s.payload(kind, size)
			if err != nil {
				return nil, err
			}
			c.sections = append(c.sections, fileSection{Kind: kind, Version: version, Data: data})
		}
	}
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

// openContents returns an engine configured by opts holding what c holds.
func openContents(ctx context.Context, path string, c *fileContents, opts []Option) (*Engine, error) {
	m, err := modelSection(c.sections)
	if err != nil {
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	if m != nil {
		// Before the caller's options, so that their WithModel wins.
		opts = append([]Option{WithModel(m)}, opts...)
	}
	e, err := newEngine(ctx, opts)
	if err != nil {
		return nil, err
	}
	h := c.header
	if h.TextDim != e.cfg.textEmbedder.Dimension() || h.ImageDim != e.cfg.imageDim() {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: file has text/image dimensions %d/%d, engine has %d/%d: %w",
			path, h.TextDim, h.ImageDim, e.cfg.textEmbedder.Dimension(), e.cfg.imageDim(), retrieval.ErrDimensionMismatch)
	}
	if h.Fusion != e.cfg.fusion {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: file was made with fusion %+v, engine has %+v", path, h.Fusion, e.cfg.fusion)
	}
	if err := e.load(ctx, c); err != nil {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	return e, nil
}

// load fills the new engine e with the catalog of c: its records, checked on
// every CPU, its vectors, given to the index at once when it can take them
// so, and its lexical index, restored from its section or rebuilt.
func (e *Engine) load(ctx context.Context, c *fileContents) error {
	// The lexical index decodes on its own goroutine meanwhile.
	type restored struct {
		ok  bool
		err error
	}
	lexDone := make(chan restored, 1)
	go func() {
		ok, err := e.restoreLexical(c.sections)
		lexDone <- restored{ok, err}
	}()
	err := e.loadCatalog(ctx, c)
	lex := <-lexDone
	switch {
	case err != nil:
		return err
	case lex.err != nil:
		return lex.err
	}
	return e.checkLexical(lex.ok)
}

// loadCatalog fills the new engine e with the records and vectors of c.
func (e *Engine) loadCatalog(ctx context.Context, c *fileContents) error {
	n := len(c.records)
	ids := make([]string, n)
	errs := make([]error, n)
	parallel(n, 1024, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			rec := c.records[i]
			if err := rec.check(); err != nil {
				errs[i] = fmt.Errorf("%w: record %d: %v", ErrCorruptFile, i, err)
				continue
			}
			ids[i] = strings.Clone(rec.id())
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	e.products = make(map[string]record, n)
	for i, id := range ids {
		if _, dup := e.products[id]; dup {
			return fmt.Errorf("%w: record %d: repeated product %q", ErrCorruptFile, i, id)
		}
		e.products[id] = c.records[i]
	}
	return e.loadVectors(ctx, ids, c)
}

// loadVectors puts the catalog's vectors into the index, and into the
// engine when the index does not lend them.
func (e *Engine) loadVectors(ctx context.Context, ids []string, c *fileContents) error {
	dim := e.cfg.vectorDim()
	if loader, ok := e.ix.(retrieval.Loader); ok && e.reader != nil {
		if err := loader.Load(ctx, ids, c.vectors); err != nil {
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
			v := c.vectors[(lo+i)*dim : (lo+i+1)*dim : (lo+i+1)*dim]
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
