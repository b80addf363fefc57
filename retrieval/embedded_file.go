package retrieval

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"os"
	"slices"

	"hmpps/internal/atomicfile"
)

// ErrCorruptIndex reports an index file or stream that is truncated, has
// trailing bytes, is of an unknown format or version, fails its checksum, or
// holds impossible content (lengths over the limits, an empty or duplicate
// ID, a non-finite vector, a non-unit vector in a Cosine index). I/O errors
// of the underlying reader are returned as they are, not as ErrCorruptIndex.
var ErrCorruptIndex = errors.New("retrieval: corrupt index")

// The file format, all integers little endian:
//
//	header   "HMPPSIDX" | version u32 | metric u32 | dim u32 | count u32 | flags u32 | rescore u32
//	record   idLen u32 | id | fields u32 | (keyLen u32 | key | valueLen u32 | value)... | dim × float32 bits
//	trailer  CRC-32C (Castagnoli) u32 of every byte before it
//
// Version 2 added flags and rescore, the saved EmbeddedOptions: flag bit 0
// is Quantize, and rescore is zero unless it is set. Version 1 files, which
// end the header at count, still read, as exact indexes. Quantized codes
// are not stored: they are a function of the vectors, rebuilt on reading,
// so a file can never hold codes that disagree with its vectors.
//
// Metadata keys are written sorted, so one index always encodes to the same
// bytes.
const (
	embeddedMagic   = "HMPPSIDX"
	embeddedVersion = 2
	// headerSize is the magic and the four u32 fields every version has;
	// headerV2Size adds flags and rescore.
	headerSize   = len(embeddedMagic) + 4*4
	headerV2Size = headerSize + 2*4
	// flagQuantize marks an index made with EmbeddedOptions.Quantize.
	flagQuantize = 1 << 0
	// ioBufferSize is large enough that per-field reads and writes rarely
	// reach the underlying reader or writer.
	ioBufferSize = 64 << 10
	// maxPreallocFloats and maxPreallocRows bound what is preallocated
	// from a record count that cannot be checked against the input's size;
	// beyond them, the index grows as records actually arrive.
	maxPreallocFloats = 4 << 20
	maxPreallocRows   = 16 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the index to w in the format OpenEmbedded and ReadEmbedded
// read, and returns the number of bytes written. It holds the read lock
// throughout, so the output is a consistent snapshot and writers wait.
func (e *Embedded) WriteTo(w io.Writer) (int64, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed.Load() {
		return 0, ErrClosed
	}
	if uint64(len(e.ids)) > math.MaxUint32 {
		return 0, fmt.Errorf("retrieval: write index: %d records exceed the format's limit", len(e.ids))
	}
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, ioBufferSize)
	iw := &indexWriter{w: bw, buf: make([]byte, max(headerV2Size, 4*e.dim))}
	var flags uint32
	if e.opts.Quantize {
		flags |= flagQuantize
	}

	iw.buf = append(iw.buf[:0], embeddedMagic...)
	iw.buf = binary.LittleEndian.AppendUint32(iw.buf, embeddedVersion)
	iw.buf = binary.LittleEndian.AppendUint32(iw.buf, uint32(e.metric))
	iw.buf = binary.LittleEndian.AppendUint32(iw.buf, uint32(e.dim))
	iw.buf = binary.LittleEndian.AppendUint32(iw.buf, uint32(len(e.ids)))
	iw.buf = binary.LittleEndian.AppendUint32(iw.buf, flags)
	iw.buf = binary.LittleEndian.AppendUint32(iw.buf, uint32(e.opts.Rescore))
	iw.write(iw.buf)
	for slot, id := range e.ids {
		iw.string(id)
		m := e.meta[slot]
		iw.uint32(uint32(len(m)))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			iw.string(k)
			iw.string(m[k])
		}
		iw.buf = iw.buf[:0]
		for _, x := range e.row(slot) {
			iw.buf = binary.LittleEndian.AppendUint32(iw.buf, math.Float32bits(x))
		}
		iw.write(iw.buf)
	}
	// The trailer is not part of its own checksum.
	if iw.err == nil {
		_, iw.err = bw.Write(binary.LittleEndian.AppendUint32(iw.buf[:0], iw.crc))
	}
	if iw.err == nil {
		iw.err = bw.Flush()
	}
	if iw.err != nil {
		return cw.n, fmt.Errorf("retrieval: write index: %w", iw.err)
	}
	return cw.n, nil
}

// Save writes the index to the file at path, replacing it atomically: a
// failed Save leaves any previous file as it was.
func (e *Embedded) Save(path string) error {
	if e.closed.Load() {
		return fmt.Errorf("retrieval: save: %w", ErrClosed)
	}
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := e.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("retrieval: save: %w", err)
	}
	return nil
}

// OpenEmbedded reads the index that Save wrote to the file at path.
func OpenEmbedded(path string) (*Embedded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("retrieval: open index: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("retrieval: open index: %w", err)
	}
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return readEmbedded(f, size)
}

// ReadEmbedded reads an index that WriteTo wrote, consuming r to its end.
// Malformed input fails with an error wrapping ErrCorruptIndex. When r
// reports its unread length, as *bytes.Reader does, every length in the
// input is also checked against it before anything is allocated.
func ReadEmbedded(r io.Reader) (*Embedded, error) {
	size := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		size = int64(l.Len())
	}
	return readEmbedded(r, size)
}

// readEmbedded parses in three passes over what it reads: structure first
// (needed to find the end), then the checksum, then the content, so that a
// flipped bit is reported as a checksum mismatch rather than as whatever
// nonsense it decodes to.
func readEmbedded(r io.Reader, size int64) (*Embedded, error) {
	ir := &indexReader{r: bufio.NewReaderSize(r, ioBufferSize), remaining: size}

	head, err := ir.read(headerSize)
	if err != nil {
		return nil, err
	}
	if string(head[:len(embeddedMagic)]) != embeddedMagic {
		return nil, corrupt("bad magic %q", head[:len(embeddedMagic)])
	}
	head = head[len(embeddedMagic):]
	version := binary.LittleEndian.Uint32(head)
	metric := Metric(binary.LittleEndian.Uint32(head[4:]))
	dim := binary.LittleEndian.Uint32(head[8:])
	count := int(binary.LittleEndian.Uint32(head[12:]))
	if version != 1 && version != embeddedVersion {
		return nil, corrupt("unknown version %d", version)
	}
	// problem is the first content error, reported once the checksum has
	// shown that the bytes are the ones written.
	var problem error
	var opts EmbeddedOptions
	if version >= 2 {
		ext, err := ir.read(headerV2Size - headerSize)
		if err != nil {
			return nil, err
		}
		opts, problem = decodeOptions(binary.LittleEndian.Uint32(ext), binary.LittleEndian.Uint32(ext[4:]))
	}
	if metric != Cosine && metric != InnerProduct {
		return nil, corrupt("unknown metric %d", metric)
	}
	if dim == 0 || dim > MaxDimension {
		return nil, corrupt("dimension %d outside [1, %d]", dim, MaxDimension)
	}
	e, err := NewEmbeddedWith(int(dim), metric, opts)
	if err != nil {
		return nil, corrupt("%v", err)
	}

	// Preallocate exactly when the input's size vouches for the count,
	// otherwise only a bounded guess.
	prealloc := min(count, maxPreallocRows, max(1, maxPreallocFloats/e.dim))
	if size >= 0 {
		minRecord := int64(4+1+4) + 4*int64(e.dim)
		if int64(count)*minRecord > ir.remaining {
			return nil, corrupt("%d records cannot fit in %d bytes", count, ir.remaining)
		}
		prealloc = count
	}
	e.matrix = make([]float32, 0, prealloc*e.dim)
	e.ids = make([]string, 0, prealloc)
	e.meta = make([]map[string]string, 0, prealloc)
	e.slots = make(map[string]int, prealloc)

	for slot := range count {
		id, err := ir.string(MaxIDLength, "id")
		if err != nil {
			return nil, fmt.Errorf("%w (record %d)", err, slot)
		}
		if _, dup := e.slots[id]; dup && problem == nil {
			problem = corrupt("duplicate id %q", id)
		}
		if id == "" && problem == nil {
			problem = corrupt("record %d has an empty id", slot)
		}
		meta, err := ir.metadata()
		if err != nil {
			return nil, fmt.Errorf("%w (record %q)", err, id)
		}
		if len(meta) == 0 {
			meta = nil
		}
		raw, err := ir.read(4 * e.dim)
		if err != nil {
			return nil, fmt.Errorf("%w (vector of %q)", err, id)
		}
		for j := range e.dim {
			e.matrix = append(e.matrix, math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:])))
		}
		e.slots[id] = slot
		e.ids = append(e.ids, id)
		e.meta = append(e.meta, meta)
		if ir.duplicateKey != "" && problem == nil {
			problem = corrupt("record %q repeats metadata key %q", id, ir.duplicateKey)
		}
	}

	want := ir.crc
	trailer, err := ir.read(4)
	if err != nil {
		return nil, fmt.Errorf("%w (checksum)", err)
	}
	if got := binary.LittleEndian.Uint32(trailer); got != want {
		return nil, corrupt("checksum mismatch: stored %08x, computed %08x", got, want)
	}
	if _, err := ir.r.ReadByte(); err == nil {
		return nil, corrupt("trailing data after checksum")
	} else if err != io.EOF {
		return nil, fmt.Errorf("retrieval: read index: %w", err)
	}

	if problem != nil {
		return nil, problem
	}
	for slot, id := range e.ids {
		v := e.row(slot)
		if err := CheckVector(v, e.dim); err != nil {
			return nil, corrupt("vector of %q: %v", id, err)
		}
		if e.metric == Cosine {
			// Vectors were normalized before they were written; one that is
			// not would silently skew every cosine score. The norm is the
			// exact one of Normalize, so the check does not depend on the
			// CPU; the tolerance is loose because only a vector that was
			// never normalized matters here, not rounding.
			if norm := norm64(v); math.Abs(norm-1) > 1e-3 {
				return nil, corrupt("vector of %q has norm %v in a cosine index", id, norm)
			}
		}
	}
	if e.stride > 0 {
		e.quantizeAll()
	}
	return e, nil
}

// decodeOptions checks a version 2 header's flags and rescore. On error it
// returns exact options, so that reading can go on to the checksum.
func decodeOptions(flags, rescore uint32) (EmbeddedOptions, error) {
	if flags&^flagQuantize != 0 {
		return EmbeddedOptions{}, corrupt("unknown flags %#x", flags)
	}
	quantize := flags&flagQuantize != 0
	if quantize != (rescore != 0) || rescore > MaxRescore {
		return EmbeddedOptions{}, corrupt("rescore %d with quantize %t", rescore, quantize)
	}
	return EmbeddedOptions{Quantize: quantize, Rescore: int(rescore)}, nil
}

// corrupt returns an error wrapping ErrCorruptIndex.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptIndex}, args...)...)
}

// indexReader reads fields while accumulating their checksum.
type indexReader struct {
	r   *bufio.Reader
	crc uint32
	// remaining is the number of unread input bytes, or -1 if unknown.
	remaining int64
	// buf is reused by every read; what read returns is valid until the
	// next call.
	buf []byte
	// duplicateKey is set by metadata when a record repeats a key.
	duplicateKey string
}

// read returns the next n bytes, n having been checked against a limit by
// the caller, so that a lying length costs at most that limit.
func (ir *indexReader) read(n int) ([]byte, error) {
	if ir.remaining >= 0 && int64(n) > ir.remaining {
		return nil, corrupt("truncated: need %d bytes, %d left", n, ir.remaining)
	}
	if cap(ir.buf) < n {
		ir.buf = make([]byte, n)
	}
	b := ir.buf[:n]
	if _, err := io.ReadFull(ir.r, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, corrupt("truncated")
		}
		return nil, fmt.Errorf("retrieval: read index: %w", err)
	}
	if ir.remaining >= 0 {
		ir.remaining -= int64(n)
	}
	ir.crc = crc32.Update(ir.crc, castagnoli, b)
	return b, nil
}

func (ir *indexReader) uint32() (uint32, error) {
	b, err := ir.read(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

// string reads a length-prefixed string of at most limit bytes.
func (ir *indexReader) string(limit int, what string) (string, error) {
	n, err := ir.uint32()
	if err != nil {
		return "", err
	}
	if n > uint32(limit) {
		return "", corrupt("%s of %d bytes exceeds %d", what, n, limit)
	}
	b, err := ir.read(int(n))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (ir *indexReader) metadata() (map[string]string, error) {
	ir.duplicateKey = ""
	n, err := ir.uint32()
	if err != nil {
		return nil, err
	}
	if n > MaxMetadataFields {
		return nil, corrupt("%d metadata fields exceed %d", n, MaxMetadataFields)
	}
	if n == 0 {
		return nil, nil
	}
	m := make(map[string]string, n)
	for range n {
		k, err := ir.string(MaxMetadataLength, "metadata key")
		if err != nil {
			return nil, err
		}
		v, err := ir.string(MaxMetadataLength, "metadata value")
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup && ir.duplicateKey == "" {
			ir.duplicateKey = k
		}
		m[k] = v
	}
	return m, nil
}

// indexWriter writes fields while accumulating their checksum. The first
// error sticks and turns later writes into no-ops, so callers check once.
type indexWriter struct {
	w   io.Writer
	crc uint32
	err error
	// buf is scratch space for encoding a header or a vector.
	buf []byte
	num [4]byte
}

func (iw *indexWriter) write(b []byte) {
	if iw.err != nil {
		return
	}
	iw.crc = crc32.Update(iw.crc, castagnoli, b)
	_, iw.err = iw.w.Write(b)
}

func (iw *indexWriter) uint32(v uint32) {
	binary.LittleEndian.PutUint32(iw.num[:], v)
	iw.write(iw.num[:])
}

func (iw *indexWriter) string(s string) {
	iw.uint32(uint32(len(s)))
	if iw.err == nil {
		iw.crc = crc32.Update(iw.crc, castagnoli, []byte(s))
		_, iw.err = io.WriteString(iw.w, s)
	}
}

// countingWriter counts the bytes that reach w, for WriteTo's result.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
