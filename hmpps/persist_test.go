package hmpps

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

func TestSaveOpenRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	path := filepath.Join(t.TempDir(), "catalog.hmpps")
	require.NoError(t, e.Save(ctx, path))

	loaded, err := Open(ctx, path)
	require.NoError(t, err)
	defer loaded.Close()
	assert.Equal(t, e.Len(), loaded.Len())
	for _, p := range testCatalog() {
		got, err := loaded.Get(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, p, got)
	}
	req := Request{Query: "waterproof boots", HistoryIDs: leatherFan}
	want, err := e.Search(ctx, req)
	require.NoError(t, err)
	got, err := loaded.Search(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, ids(want.Results), ids(got.Results))
	for i := range want.Results {
		assert.InDelta(t, want.Results[i].Score, got.Results[i].Score, 1e-9)
	}

	// Saving the same catalog again gives the same bytes.
	again := filepath.Join(t.TempDir(), "again.hmpps")
	require.NoError(t, loaded.Save(ctx, again))
	a, _ := os.ReadFile(path)
	b, _ := os.ReadFile(again)
	assert.Equal(t, a, b)
}

func TestOpenCorruptFile(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.hmpps")
	require.NoError(t, e.Save(ctx, path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	bad := filepath.Join(dir, "bad.hmpps")
	for _, n := range []int{0, 3, 8, 12, len(data) / 2, len(data) - 1} {
		require.NoError(t, os.WriteFile(bad, data[:n], 0o600))
		_, err := Open(ctx, bad)
		assert.ErrorIs(t, err, ErrCorruptFile, "truncated to %d bytes", n)
	}
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/3] ^= 0x40
	require.NoError(t, os.WriteFile(bad, flipped, 0o600))
	_, err = Open(ctx, bad)
	assert.ErrorIs(t, err, ErrCorruptFile)

	_, err = Open(ctx, filepath.Join(dir, "missing.hmpps"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	// The good file is still good.
	loaded, err := Open(ctx, path)
	require.NoError(t, err)
	assert.Equal(t, e.Len(), loaded.Len())
	loaded.Close()
}

func TestFailedSaveKeepsPreviousFile(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.hmpps")
	require.NoError(t, e.Save(ctx, path))
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	require.NoError(t, e.Delete(ctx, "boot-leather-1"))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, e.Save(cancelled, path), context.Canceled)

	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "a failed save leaves the previous file")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestOpenRefusesOtherConfiguration(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	path := filepath.Join(t.TempDir(), "catalog.hmpps")
	require.NoError(t, e.Save(ctx, path))

	_, err := Open(ctx, path, WithImageEmbedder(nil))
	assert.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
	_, err = Open(ctx, path, WithVectorFusion(retrieval.VectorFusion{TextWeight: 0.5, ImageWeight: 0.5}))
	assert.ErrorContains(t, err, "fusion")
}

func FuzzOpen(f *testing.F) {
	ctx := context.Background()
	e, err := New()
	if err != nil {
		f.Fatal(err)
	}
	if err := e.Upsert(ctx, testCatalog()[:3]...); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "seed.hmpps")
	if err := e.Save(ctx, path); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte(fileMagic + "\x01\x00\x00\x00"))
	// decodeFile is what Open runs on the bytes; each input is also tried
	// with its checksum recomputed, so that mutations reach the decoder
	// instead of all stopping at the checksum.
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range [][]byte{data, withChecksum(data)} {
			tm := time.AfterFunc(3*time.Second, func() { panic("slow decode") })
			h, records, sections, err := decodeFile(d)
			tm.Stop()
			if err != nil {
				if !errors.Is(err, ErrCorruptFile) {
					t.Fatalf("error does not wrap ErrCorruptFile: %v", err)
				}
				continue
			}
			if len(records) != h.Count || len(sections) != h.Sections {
				t.Fatalf("%d records and %d sections, header says %d and %d", len(records), len(sections), h.Count, h.Sections)
			}
			// What decodes goes through the rest of Open: the sections
			// are restored or refused, never a panic.
			e, err := openData(ctx, "fuzz", d, nil)
			if err == nil {
				e.Close()
			}
		}
	})
}

// withChecksum returns data with its last four bytes replaced by the CRC-32C
// of the rest, as Save would have written it.
func withChecksum(data []byte) []byte {
	if len(data) < 4 {
		return data
	}
	out := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(out[len(out)-4:], crc32.Checksum(out[:len(out)-4], castagnoli))
	return out
}
