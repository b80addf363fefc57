package hmpps

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strings"

	"hmpps/internal/atomicfile"
	"hmpps/retrieval"
)

// The engine file: fileMagic, a uint32 version, a gob stream of one
// fileHeader, Count fileRecords and (from version 2) Sections fileSections,
// and a CRC-32C of everything before it.
//
// Versions: 1 holds the catalog only; 2 adds the sections. Open reads both.
const (
	fileMagic   = "HMPPSENG"
	fileVersion = 2
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

// fileRecord is one catalog entry on disk.
type fileRecord struct {
	Product Product
	Vector  []float32
	// Image is the embedded image when it did not come from Product.Images'
	// bytes (it was read from a local path); nil otherwise.
	Image []byte
}

// Save writes the catalog, its vectors, its lexical index and its trained
// model (WithModel), if any, to one file at path, atomically: a crash or
// error mid-save leaves the previous file intact. Writes that happen during
// Save are either all in the file or not at all.
func (e *Engine) Save(ctx context.Context, path string) error {
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return ErrClosed
	}
	entries := make([]*entry, 0, len(e.products))
	for _, en := range e.products {
		entries = append(entries, en)
	}
	// Under the same lock as the entries, so the sections describe them.
	sections, err := e.fileSections()
	e.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("hmpps: save %s: %w", path, err)
	}
	// Sorted, so that saving the same catalog twice gives the same bytes.
	slices.SortFunc(entries, func(a, b *entry) int { return strings.Compare(a.product.ID, b.product.ID) })

	records := make([]fileRecord, len(entries))
	for i, en := range entries {
		records[i] = fileRecord{Product: en.product, Vector: en.vector}
		if en.image != nil && !bytes.Equal(en.image, firstImageData(en.product.Images)) {
			records[i].Image = en.image
		}
	}
	h := fileHeader{TextDim: e.cfg.textEmbedder.Dimension(), ImageDim: e.cfg.imageDim(), Fusion: e.cfg.fusion}
	err = atomicfile.Write(path, func(w io.Writer) error {
		return encodeFile(ctx, w, h, records, sections)
	})
	if err != nil {
		return fmt.Errorf("hmpps: save %s: %w", path, err)
	}
	return nil
}

// Open returns an Engine configured by opts holding the catalog saved at path
// by Save. The embedders and fusion weights must be the ones the file was
// made with; a file whose dimensions or weights differ is refused. A
// truncated or altered file fails with an error wrapping ErrCorruptFile. A
// model saved in the file is loaded as if by WithModel, unless opts hold a
// WithModel of their own (WithModel(nil) opens the engine untrained).
func Open(ctx context.Context, path string, opts ...Option) (*Engine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hmpps: open: %w", err)
	}
	return openData(ctx, path, data, opts)
}

// openData is Open on the file's bytes; path names the file in errors.
func openData(ctx context.Context, path string, data []byte, opts []Option) (*Engine, error) {
	h, records, sections, err := decodeFile(data)
	if err != nil {
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	m, err := modelSection(sections)
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
	if h.TextDim != e.cfg.textEmbedder.Dimension() || h.ImageDim != e.cfg.imageDim() {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: file has text/image dimensions %d/%d, engine has %d/%d: %w",
			path, h.TextDim, h.ImageDim, e.cfg.textEmbedder.Dimension(), e.cfg.imageDim(), retrieval.ErrDimensionMismatch)
	}
	if h.Fusion != e.cfg.fusion {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: file was made with fusion %+v, engine has %+v", path, h.Fusion, e.cfg.fusion)
	}
	idx := make([]retrieval.Record, len(records))
	for i, r := range records {
		idx[i] = retrieval.Record{ID: r.Product.ID, Vector: r.Vector, Metadata: r.Product.metadata()}
		en := &entry{product: r.Product, vector: r.Vector, image: r.Image}
		e.prepareText(en)
		if en.image == nil {
			en.image = firstImageData(en.product.Images)
		}
		e.products[r.Product.ID] = en
	}
	if err := e.loadSections(sections); err != nil {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	if err := e.ix.Upsert(ctx, idx...); err != nil {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	return e, nil
}

// encodeFile writes an engine file of the current version with h's
// configuration; it fills in h's counts.
func encodeFile(ctx context.Context, w io.Writer, h fileHeader, records []fileRecord, sections []fileSection) error {
	crc := crc32.New(castagnoli)
	mw := io.MultiWriter(w, crc)
	if _, err := io.WriteString(mw, fileMagic); err != nil {
		return err
	}
	if err := binary.Write(mw, binary.LittleEndian, uint32(fileVersion)); err != nil {
		return err
	}
	enc := gob.NewEncoder(mw)
	h.Count, h.Sections = len(records), len(sections)
	if err := enc.Encode(h); err != nil {
		return err
	}
	for i := range records {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := enc.Encode(&records[i]); err != nil {
			return err
		}
	}
	for i := range sections {
		if err := enc.Encode(&sections[i]); err != nil {
			return err
		}
	}
	return binary.Write(w, binary.LittleEndian, crc.Sum32())
}

// decodeFile checks the checksum before decoding anything, so corrupt input
// never reaches the decoder's allocations.
func decodeFile(data []byte) (fileHeader, []fileRecord, []fileSection, error) {
	var h fileHeader
	if len(data) < len(fileMagic)+8 || string(data[:len(fileMagic)]) != fileMagic {
		return h, nil, nil, fmt.Errorf("%w: not an engine file or truncated", ErrCorruptFile)
	}
	body, trailer := data[:len(data)-4], data[len(data)-4:]
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(trailer); got != want {
		return h, nil, nil, fmt.Errorf("%w: checksum mismatch (truncated or altered)", ErrCorruptFile)
	}
	version := binary.LittleEndian.Uint32(body[len(fileMagic):])
	if version < 1 || version > fileVersion {
		return h, nil, nil, fmt.Errorf("%w: version %d, this library reads 1 to %d", ErrCorruptFile, version, fileVersion)
	}
	dec := gob.NewDecoder(bytes.NewReader(body[len(fileMagic)+4:]))
	if err := dec.Decode(&h); err != nil {
		return h, nil, nil, fmt.Errorf("%w: header: %v", ErrCorruptFile, err)
	}
	if h.Count < 0 || h.TextDim <= 0 || h.ImageDim < 0 || h.Count > len(body) ||
		h.Sections < 0 || h.Sections > len(body) || version < 2 && h.Sections != 0 {
		return h, nil, nil, fmt.Errorf("%w: header %+v", ErrCorruptFile, h)
	}
	records := make([]fileRecord, h.Count)
	seen := make(map[string]bool, h.Count)
	for i := range records {
		r := &records[i]
		if err := dec.Decode(r); err != nil {
			return h, nil, nil, fmt.Errorf("%w: record %d: %v", ErrCorruptFile, i, err)
		}
		if err := r.Product.validate(); err != nil || seen[r.Product.ID] {
			return h, nil, nil, fmt.Errorf("%w: record %d: invalid or repeated product %q", ErrCorruptFile, i, r.Product.ID)
		}
		seen[r.Product.ID] = true
		if err := retrieval.CheckVector(r.Vector, h.TextDim+h.ImageDim); err != nil {
			return h, nil, nil, fmt.Errorf("%w: record %d: %v", ErrCorruptFile, i, err)
		}
	}
	sections := make([]fileSection, h.Sections)
	kinds := make(map[string]bool, h.Sections)
	for i := range sections {
		sec := &sections[i]
		if err := dec.Decode(sec); err != nil {
			return h, nil, nil, fmt.Errorf("%w: section %d: %v", ErrCorruptFile, i, err)
		}
		if kinds[sec.Kind] {
			return h, nil, nil, fmt.Errorf("%w: section %q twice", ErrCorruptFile, sec.Kind)
		}
		kinds[sec.Kind] = true
	}
	return h, records, sections, nil
}
