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
// fileHeader and Count fileRecords, and a CRC-32C of everything before it.
const (
	fileMagic   = "HMPPSENG"
	fileVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileHeader records the configuration the vectors were made with, so that
// Open can refuse a file whose vectors mean something else.
type fileHeader struct {
	TextDim, ImageDim int
	Fusion            retrieval.Fusion
	Count             int
	// Model is the engine's trained model (WithModel) as a model file
	// (Model.WriteTo: its own magic, version and checksum), or nil. A gob
	// field that older files lack decodes as nil, so they still open.
	Model []byte
}

// fileRecord is one catalog entry on disk.
type fileRecord struct {
	Product Product
	Vector  []float32
	// Image is the embedded image when it did not come from Product.Images'
	// bytes (it was read from a local path); nil otherwise.
	Image []byte
}

// Save writes the catalog and its vectors to one file at path, atomically: a
// crash or error mid-save leaves the previous file intact. Writes that happen
// during Save are either all in the file or not at all. A trained model
// (WithModel) is saved with them.
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
	e.mu.RUnlock()
	// Sorted, so that saving the same catalog twice gives the same bytes.
	slices.SortFunc(entries, func(a, b *entry) int { return strings.Compare(a.product.ID, b.product.ID) })

	err := atomicfile.Write(path, func(w io.Writer) error {
		crc := crc32.New(castagnoli)
		mw := io.MultiWriter(w, crc)
		if _, err := io.WriteString(mw, fileMagic); err != nil {
			return err
		}
		if err := binary.Write(mw, binary.LittleEndian, uint32(fileVersion)); err != nil {
			return err
		}
		enc := gob.NewEncoder(mw)
		h := fileHeader{TextDim: e.cfg.textEmbedder.Dimension(), ImageDim: e.cfg.imageDim(), Fusion: e.cfg.fusion, Count: len(entries)}
		if e.cfg.model != nil {
			b, err := e.cfg.model.marshal()
			if err != nil {
				return err
			}
			h.Model = b
		}
		if err := enc.Encode(h); err != nil {
			return err
		}
		for _, en := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			r := fileRecord{Product: en.product, Vector: en.vector}
			if en.image != nil && !bytes.Equal(en.image, firstImageData(en.product.Images)) {
				r.Image = en.image
			}
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return binary.Write(w, binary.LittleEndian, crc.Sum32())
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
	h, records, err := decodeFile(data)
	if err != nil {
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	if h.Model != nil {
		m, err := unmarshalModel(h.Model)
		if err != nil {
			return nil, fmt.Errorf("hmpps: open %s: %w: %w", path, ErrCorruptFile, err)
		}
		// Before the caller's options, so that their WithModel wins.
		opts = append([]Option{WithModel(m)}, opts...)
	}
	e, err := New(opts...)
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
		e.lex.Upsert(r.Product.ID, en.lexical)
	}
	if err := e.ix.Upsert(ctx, idx...); err != nil {
		e.Close()
		return nil, fmt.Errorf("hmpps: open %s: %w", path, err)
	}
	return e, nil
}

// decodeFile checks the checksum before decoding anything, so corrupt input
// never reaches the decoder's allocations.
func decodeFile(data []byte) (fileHeader, []fileRecord, error) {
	var h fileHeader
	if len(data) < len(fileMagic)+8 || string(data[:len(fileMagic)]) != fileMagic {
		return h, nil, fmt.Errorf("%w: not an engine file or truncated", ErrCorruptFile)
	}
	body, trailer := data[:len(data)-4], data[len(data)-4:]
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(trailer); got != want {
		return h, nil, fmt.Errorf("%w: checksum mismatch (truncated or altered)", ErrCorruptFile)
	}
	if v := binary.LittleEndian.Uint32(body[len(fileMagic):]); v != fileVersion {
		return h, nil, fmt.Errorf("%w: version %d, this library reads %d", ErrCorruptFile, v, fileVersion)
	}
	dec := gob.NewDecoder(bytes.NewReader(body[len(fileMagic)+4:]))
	if err := dec.Decode(&h); err != nil {
		return h, nil, fmt.Errorf("%w: header: %v", ErrCorruptFile, err)
	}
	if h.Count < 0 || h.TextDim <= 0 || h.ImageDim < 0 || h.Count > len(body) {
		return h, nil, fmt.Errorf("%w: header %+v", ErrCorruptFile, h)
	}
	records := make([]fileRecord, h.Count)
	seen := make(map[string]bool, h.Count)
	for i := range records {
		r := &records[i]
		if err := dec.Decode(r); err != nil {
			return h, nil, fmt.Errorf("%w: record %d: %v", ErrCorruptFile, i, err)
		}
		if err := r.Product.validate(); err != nil || seen[r.Product.ID] {
			return h, nil, fmt.Errorf("%w: record %d: invalid or repeated product %q", ErrCorruptFile, i, r.Product.ID)
		}
		seen[r.Product.ID] = true
		if err := retrieval.CheckVector(r.Vector, h.TextDim+h.ImageDim); err != nil {
			return h, nil, fmt.Errorf("%w: record %d: %v", ErrCorruptFile, i, err)
		}
	}
	return h, records, nil
}
