package retrieval

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomIndex builds an index of n random records.
func randomIndex(t testing.TB, dim, n int, metric Metric, seed uint64) *Embedded {
	t.Helper()
	return randomIndexWith(t, dim, n, metric, EmbeddedOptions{}, seed)
}

// randomIndexWith is randomIndex with options.
func randomIndexWith(t testing.TB, dim, n int, metric Metric, opts EmbeddedOptions, seed uint64) *Embedded {
	t.Helper()
	e, err := NewEmbeddedWith(dim, metric, opts)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(seed, seed))
	var recs []Record
	for i := range n {
		recs = append(recs, randomRecord(rng, testID(i), dim))
	}
	require.NoError(t, e.Upsert(context.Background(), recs...))
	return e
}

func encode(t testing.TB, e *Embedded) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := e.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

// smallIndexFile is a valid file of three records, one without metadata.
func smallIndexFile(t testing.TB) []byte {
	t.Helper()
	e, err := NewEmbedded(3, Cosine)
	require.NoError(t, err)
	require.NoError(t, e.Upsert(context.Background(),
		Record{ID: "boot", Vector: []float32{1, 2, 3}, Metadata: map[string]string{"brand": "acme", "category": "Shoes"}},
		Record{ID: "tent", Vector: []float32{-1, 0, 2}},
		Record{ID: "jacket", Vector: []float32{0, 1, 0}, Metadata: map[string]string{"brand": ""}},
	))
	return encode(t, e)
}

// hiddenLen hides a reader's Len, so that reading takes the path for
// streams of unknown size.
type hiddenLen struct{ io.Reader }

func requireSameIndex(t *testing.T, want, got *Embedded) {
	t.Helper()
	ctx := context.Background()
	require.Equal(t, want.Dimension(), got.Dimension())
	require.Equal(t, want.Metric(), got.Metric())
	require.Equal(t, want.Options(), got.Options())
	n, err := want.Len(ctx)
	require.NoError(t, err)
	m, err := got.Len(ctx)
	require.NoError(t, err)
	require.Equal(t, n, m)
	requireConsistent(t, got)

	wantRecs, err := want.Get(ctx, want.ids...)
	require.NoError(t, err)
	gotRecs, err := got.Get(ctx, want.ids...)
	require.NoError(t, err)
	require.Equal(t, wantRecs, gotRecs)

	rng := rand.New(rand.NewPCG(77, 77))
	for _, f := range []Filter{nil, {In("brand", "acme")}, {Prefix("category", "Clothing")}} {
		q := randomVector(rng, want.Dimension())
		wantHits, err := want.Search(ctx, q, 20, f)
		require.NoError(t, err)
		gotHits, err := got.Search(ctx, q, 20, f)
		require.NoError(t, err)
		require.Equal(t, wantHits, gotHits, "identical vectors give identical scores")
	}
}

func TestEmbeddedRoundTrip(t *testing.T) {
	quantized := EmbeddedOptions{Quantize: true, Rescore: 3}
	tests := []struct {
		name   string
		dim, n int
		metric Metric
		opts   EmbeddedOptions
	}{
		{"empty", 4, 0, Cosine, EmbeddedOptions{}},
		{"one", 1, 1, InnerProduct, EmbeddedOptions{}},
		{"cosine", 64, 300, Cosine, EmbeddedOptions{}},
		{"inner product", 384, 100, InnerProduct, EmbeddedOptions{}},
		{"quantized empty", 4, 0, Cosine, quantized},
		{"quantized cosine", 64, 300, Cosine, quantized},
		{"quantized inner product", 100, 200, InnerProduct, EmbeddedOptions{Quantize: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := randomIndexWith(t, tt.dim, tt.n, tt.metric, tt.opts, uint64(tt.n))
			data := encode(t, e)

			got, err := ReadEmbedded(bytes.NewReader(data))
			require.NoError(t, err)
			requireSameIndex(t, e, got)
			assert.Equal(t, data, encode(t, got), "encoding is deterministic")

			got, err = ReadEmbedded(hiddenLen{bytes.NewReader(data)})
			require.NoError(t, err)
			requireSameIndex(t, e, got)

			path := filepath.Join(t.TempDir(), "index.hmpps")
			require.NoError(t, e.Save(path))
			got, err = OpenEmbedded(path)
			require.NoError(t, err)
			requireSameIndex(t, e, got)
		})
	}
}

func TestReadEmbeddedTruncated(t *testing.T) {
	data := smallIndexFile(t)
	for i := range len(data) {
		_, err := ReadEmbedded(bytes.NewReader(data[:i]))
		require.ErrorIs(t, err, ErrCorruptIndex, "prefix of %d bytes", i)
		_, err = ReadEmbedded(hiddenLen{bytes.NewReader(data[:i])})
		require.ErrorIs(t, err, ErrCorruptIndex, "prefix of %d bytes, unknown size", i)
	}
	_, err := ReadEmbedded(bytes.NewReader(append(data, 0)))
	require.ErrorIs(t, err, ErrCorruptIndex)
	assert.Contains(t, err.Error(), "trailing data")
}

func TestReadEmbeddedFlippedByte(t *testing.T) {
	data := smallIndexFile(t)
	for i := range len(data) {
		flipped := bytes.Clone(data)
		flipped[i] ^= 0x01
		_, err := ReadEmbedded(bytes.NewReader(flipped))
		require.ErrorIs(t, err, ErrCorruptIndex, "byte %d flipped", i)
	}
	// Where a flip leaves the structure parseable, the checksum catches it:
	// inside the first ID, in the low mantissa byte of the last component,
	// and in the trailer itself.
	for _, i := range []int{headerV2Size + 4, len(data) - 8, len(data) - 1} {
		flipped := bytes.Clone(data)
		flipped[i] ^= 0x01
		_, err := ReadEmbedded(bytes.NewReader(flipped))
		require.ErrorIs(t, err, ErrCorruptIndex)
		assert.Contains(t, err.Error(), "checksum mismatch", "byte %d flipped", i)
	}
}

// fileBuilder writes index files field by field, with a correct checksum,
// so that tests can reach the checks behind it.
type fileBuilder struct{ buf []byte }

func (b *fileBuilder) u32(v uint32) *fileBuilder {
	b.buf = binary.LittleEndian.AppendUint32(b.buf, v)
	return b
}

func (b *fileBuilder) str(s string) *fileBuilder {
	b.u32(uint32(len(s)))
	b.buf = append(b.buf, s...)
	return b
}

func (b *fileBuilder) header(version, metric, dim, count uint32) *fileBuilder {
	b.buf = append(b.buf, embeddedMagic...)
	return b.u32(version).u32(metric).u32(dim).u32(count)
}

// headerV2 writes a version 2 header, which adds flags and rescore.
func (b *fileBuilder) headerV2(metric, dim, count, flags, rescore uint32) *fileBuilder {
	return b.header(2, metric, dim, count).u32(flags).u32(rescore)
}

func (b *fileBuilder) record(id string, vec ...float32) *fileBuilder {
	b.str(id).u32(0)
	for _, x := range vec {
		b.u32(math.Float32bits(x))
	}
	return b
}

func (b *fileBuilder) sealed() []byte {
	return binary.LittleEndian.AppendUint32(bytes.Clone(b.buf), crc32.Checksum(b.buf, castagnoli))
}

func TestReadEmbeddedRejects(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name string
		file []byte
		want string
		// wantStream, if set, replaces want when the input's size is
		// unknown and a lying length is caught later.
		wantStream string
	}{
		{"empty input", nil, "truncated", ""},
		{"bad magic", append([]byte("HMPPSIDY"), (&fileBuilder{}).u32(1).u32(0).u32(2).u32(0).sealed()...), "bad magic", ""},
		{"unknown version", (&fileBuilder{}).header(3, 0, 2, 0).sealed(), "unknown version 3", ""},
		{"version 2 without options", (&fileBuilder{}).header(2, 0, 2, 0).sealed(), "truncated", ""},
		{"unknown flag", (&fileBuilder{}).headerV2(0, 2, 0, 2, 0).sealed(), "unknown flags 0x2", ""},
		{"rescore without quantize", (&fileBuilder{}).headerV2(0, 2, 0, 0, 4).sealed(), "rescore 4 with quantize false", ""},
		{"quantize without rescore", (&fileBuilder{}).headerV2(0, 2, 0, flagQuantize, 0).sealed(), "rescore 0 with quantize true", ""},
		{"rescore too large", (&fileBuilder{}).headerV2(0, 2, 0, flagQuantize, MaxRescore+1).sealed(), "rescore 1025", ""},
		{"bad options behind checksum", binary.LittleEndian.AppendUint32((&fileBuilder{}).headerV2(0, 2, 0, 8, 0).buf, 0),
			"checksum mismatch", ""},
		{"unknown metric", (&fileBuilder{}).header(1, 9, 2, 0).sealed(), "unknown metric 9", ""},
		{"zero dimension", (&fileBuilder{}).header(1, 0, 0, 0).sealed(), "dimension 0", ""},
		{"huge dimension", (&fileBuilder{}).header(1, 0, 1<<30, 0).sealed(), "dimension 1073741824", ""},
		{"count beyond size", (&fileBuilder{}).header(1, 0, 2, math.MaxUint32).sealed(), "cannot fit", "exceeds 65536"},
		{"record beyond size", (&fileBuilder{}).header(1, 1, 1, 1).u32(1000).sealed(), "cannot fit", "truncated"},
		{"huge id length", (&fileBuilder{}).header(1, 1, 1, 1).u32(math.MaxUint32).str("padding").sealed(),
			"id of 4294967295 bytes", ""},
		{"id beyond input", (&fileBuilder{}).header(1, 1, 1, 1).u32(1000).str("padding").sealed(), "truncated", ""},
		{"huge field count", (&fileBuilder{}).header(1, 1, 1, 1).str("a").u32(1 << 31).sealed(), "metadata fields", ""},
		{"huge key length", (&fileBuilder{}).header(1, 1, 1, 1).str("a").u32(1).u32(1 << 30).sealed(), "metadata key of", ""},
		{"empty id", (&fileBuilder{}).header(1, 1, 1, 1).record("", 1).sealed(), "empty id", ""},
		{"duplicate id", (&fileBuilder{}).header(1, 1, 1, 2).record("a", 1).record("a", 2).sealed(), `duplicate id "a"`, ""},
		{"duplicate metadata key", (&fileBuilder{}).header(1, 1, 1, 1).str("a").u32(2).
			str("k").str("v").str("k").str("w").u32(math.Float32bits(1)).sealed(), `repeats metadata key "k"`, ""},
		{"nan vector", (&fileBuilder{}).header(1, 1, 2, 1).record("a", 1, nan).sealed(), "NaN", ""},
		{"inf vector", (&fileBuilder{}).header(1, 1, 2, 1).record("a", float32(math.Inf(1)), 1).sealed(), "+Inf", ""},
		{"non-unit cosine vector", (&fileBuilder{}).header(1, 0, 2, 1).record("a", 3, 4).sealed(), "norm 5", ""},
		{"zero cosine vector", (&fileBuilder{}).header(1, 0, 2, 1).record("a", 0, 0).sealed(), "norm 0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ReadEmbedded(bytes.NewReader(tt.file))
			require.ErrorIs(t, err, ErrCorruptIndex)
			assert.Nil(t, e)
			assert.Contains(t, err.Error(), tt.want)

			e, err = ReadEmbedded(hiddenLen{bytes.NewReader(tt.file)})
			require.ErrorIs(t, err, ErrCorruptIndex)
			assert.Nil(t, e)
			want := tt.want
			if tt.wantStream != "" {
				want = tt.wantStream
			}
			assert.Contains(t, err.Error(), want)
		})
	}

	valid := []struct {
		name string
		file []byte
		opts EmbeddedOptions
	}{
		{"valid hand-built version 1 file", (&fileBuilder{}).header(1, 0, 2, 1).record("a", 0.6, 0.8).sealed(), EmbeddedOptions{}},
		{"valid hand-built version 2 file", (&fileBuilder{}).headerV2(0, 2, 1, 0, 0).record("a", 0.6, 0.8).sealed(), EmbeddedOptions{}},
		{"valid hand-built quantized file", (&fileBuilder{}).headerV2(0, 2, 1, flagQuantize, 7).record("a", 0.6, 0.8).sealed(),
			EmbeddedOptions{Quantize: true, Rescore: 7}},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ReadEmbedded(bytes.NewReader(tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.opts, e.Options())
			requireConsistent(t, e)
			recs, err := e.Get(context.Background(), "a")
			require.NoError(t, err)
			// The vector is read back bit for bit: the file holds the
			// float32s the builder wrote.
			assert.Equal(t, []float32{0.6, 0.8}, recs[0].Vector)
			hits, err := e.Search(context.Background(), []float32{1, 0}, 1, nil)
			require.NoError(t, err)
			assertHits(t, []Hit{{ID: "a", Score: 0.6}}, hits)
		})
	}
}

// TestOpenEmbeddedVersion1 opens a file written by the version 1 writer,
// kept in testdata, and checks that it reads as an exact index and saves
// again as version 2.
func TestOpenEmbeddedVersion1(t *testing.T) {
	ctx := context.Background()
	e, err := OpenEmbedded(filepath.Join("testdata", "index-v1.hmpps"))
	require.NoError(t, err)
	assert.Equal(t, InnerProduct, e.Metric())
	assert.Equal(t, 4, e.Dimension())
	assert.Equal(t, EmbeddedOptions{}, e.Options())
	recs, err := e.Get(ctx, "boot", "tent", "jacket")
	require.NoError(t, err)
	assert.Equal(t, []Record{
		{ID: "boot", Vector: []float32{1, 2, 3, 4}, Metadata: map[string]string{"brand": "acme", "category": "Clothing > Shoes > Boots"}},
		{ID: "tent", Vector: []float32{-1, 0, 2, 0.5}},
		{ID: "jacket", Vector: []float32{0, 1, 0, -3}, Metadata: map[string]string{"brand": "summit"}},
	}, recs)

	data := encode(t, e)
	assert.Equal(t, uint32(embeddedVersion), binary.LittleEndian.Uint32(data[len(embeddedMagic):]))
	again, err := ReadEmbedded(bytes.NewReader(data))
	require.NoError(t, err)
	requireSameIndex(t, e, again)
}

// failingReader returns err once its data runs out.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadEmbeddedIOErrorIsNotCorruption(t *testing.T) {
	errDisk := errors.New("disk on fire")
	data := smallIndexFile(t)
	_, err := ReadEmbedded(&failingReader{data: data[:40], err: errDisk})
	require.ErrorIs(t, err, errDisk)
	assert.NotErrorIs(t, err, ErrCorruptIndex)
}

// failingWriter accepts limit bytes, then fails.
type failingWriter struct {
	limit int
	err   error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.limit {
		n := w.limit
		w.limit = 0
		return n, w.err
	}
	w.limit -= len(p)
	return len(p), nil
}

func TestEmbeddedWriteToError(t *testing.T) {
	errFull := errors.New("disk full")
	e := randomIndex(t, 384, 200, Cosine, 1)
	n, err := e.WriteTo(&failingWriter{limit: 100_000, err: errFull})
	require.ErrorIs(t, err, errFull)
	assert.Equal(t, int64(100_000), n)
}

func TestEmbeddedSaveFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.hmpps")
	old := randomIndex(t, 8, 20, Cosine, 1)
	require.NoError(t, old.Save(path))
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	closed := randomIndex(t, 8, 30, Cosine, 2)
	require.NoError(t, closed.Close())
	require.ErrorIs(t, closed.Save(path), ErrClosed)

	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")

	// A directory in the way cannot be replaced by a file.
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	require.Error(t, old.Save(sub))
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2)
}

func TestOpenEmbeddedMissing(t *testing.T) {
	_, err := OpenEmbedded(filepath.Join(t.TempDir(), "nope"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestEmbeddedWriteToClosed(t *testing.T) {
	e, err := NewEmbedded(2, Cosine)
	require.NoError(t, err)
	require.NoError(t, e.Close())
	_, err = e.WriteTo(io.Discard)
	require.ErrorIs(t, err, ErrClosed)
}

func FuzzReadEmbedded(f *testing.F) {
	data := smallIndexFile(f)
	for i := range len(data) + 1 {
		f.Add(data[:i])
	}
	empty, err := NewEmbedded(2, InnerProduct)
	require.NoError(f, err)
	f.Add(encode(f, empty))
	f.Add(encode(f, randomIndex(f, 2, 3, InnerProduct, 1)))
	f.Add(encode(f, randomIndexWith(f, 3, 4, Cosine, EmbeddedOptions{Quantize: true}, 1)))
	v1, err := os.ReadFile(filepath.Join("testdata", "index-v1.hmpps"))
	require.NoError(f, err)
	f.Add(v1)

	f.Fuzz(func(t *testing.T, data []byte) {
		checkReadEmbedded(t, data)
		// A random mutation almost never keeps the checksum valid; resealing
		// lets the fuzzer reach the checks behind it.
		if len(data) >= 4 {
			body := data[:len(data)-4]
			checkReadEmbedded(t, binary.LittleEndian.AppendUint32(bytes.Clone(body), crc32.Checksum(body, castagnoli)))
		}
	})
}

// checkReadEmbedded reads data with and without a size hint and checks that
// the outcomes agree, that errors mean corruption, and that whatever reads
// successfully is usable and encodes back to itself.
func checkReadEmbedded(t *testing.T, data []byte) {
	e, err := ReadEmbedded(bytes.NewReader(data))
	_, streamErr := ReadEmbedded(hiddenLen{bytes.NewReader(data)})
	if err != nil {
		require.ErrorIs(t, err, ErrCorruptIndex)
		require.ErrorIs(t, streamErr, ErrCorruptIndex)
		return
	}
	require.NoError(t, streamErr, "a size hint must not change what is valid")
	requireConsistent(t, e)

	query := make([]float32, e.Dimension())
	for i := range query {
		query[i] = float32(i + 1)
	}
	_, err = e.Search(context.Background(), query, 3, nil)
	require.NoError(t, err)

	first := encode(t, e)
	again, err := ReadEmbedded(bytes.NewReader(first))
	require.NoError(t, err, fmt.Sprintf("re-encoded %x", first))
	require.Equal(t, first, encode(t, again))
}
