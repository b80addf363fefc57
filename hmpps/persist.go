package hmpps

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"slices"

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
// record), the fileSections ("model", "lexical", and kinds a later library
// may add), "vectors" (the records' fused vectors,
// Count·(TextDim+ImageDim) little-endian float32s, in the same order), and
// "end", whose payload is the number of sections before it. A section is
// checked before it is decoded, and Open decodes each while it reads the
// next: the records and the lexical index are being restored, on every
// CPU, while the vectors, the largest section, are read straight into the
// index's memory. Open derives nothing from the records and vectors but
// their indexes.
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
	if e.shared != nil {
		e.mu.RUnlock()
		return fmt.Errorf("hmpps: save: %w: the index is the catalog's store", ErrSharedCatalog)
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

	for _, s := range sections {
		if s.Kind == sectionHeader || s.Kind == sectionRecords || s.Kind == sectionVectors || s.Kind == sectionEnd {
			return fmt.Errorf("a section may not be called %q", s.Kind)
		}
		sw.section(s.Kind, s.Version, s.Data)
	}
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
