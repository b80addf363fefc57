package hmpps

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

// recordProducts are products whose every field, nil or empty or set, a
// record must give back as it was.
func recordProducts() []Product {
	return []Product{
		{ID: "bare", Title: "A title"},
		{ID: "empty lists", Title: "t", Category: []string{}, Attributes: map[string]string{}, Images: []Image{},
			TextVector: []float32{}, ImageVector: []float32{}},
		{ID: "full", Title: "<b>Trail</b> boot", Brand: "Vale", Category: []string{"Shoes", "Boots", ""},
			Description: "Waterproof.\n\nLeather upper & grippy sole.", Caption: "a brown boot",
			Attributes:  map[string]string{"size": "9", "color": "brown", "zz": ""},
			Images:      []Image{{URI: "https://example.com/a.jpg"}, {Data: []byte{}}, {Data: []byte{1, 2, 3}, URI: "local.png"}, {}},
			TextVector:  []float32{1, -0.5, float32(math.SmallestNonzeroFloat32), float32(math.Copysign(0, -1))},
			ImageVector: []float32{3}},
		{ID: "ü", Title: "日本語", Description: string([]byte{0xff, 0xfe})},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, p := range recordProducts() {
		for _, picture := range [][]byte{nil, firstImageData(p.Images), {9, 9}} {
			rec := encodeRecord(&p, picture)
			require.NoError(t, rec.check(), p.ID)
			got, gotPicture, err := rec.decode()
			require.NoError(t, err, p.ID)
			assert.Equal(t, p, got, p.ID)
			assert.Equal(t, p, rec.product(), p.ID)
			assert.Equal(t, picture, gotPicture, p.ID)
			assert.Equal(t, picture, rec.picture(), p.ID)
			assert.Equal(t, picture != nil, rec.hasPicture(), p.ID)
			assert.Equal(t, p.ID, rec.id())

			en := newEntry(rec, nil)
			assert.Equal(t, [3]string{p.ID, p.Title, p.Brand}, [3]string{en.product.ID, en.product.Title, en.product.Brand})
			assert.Equal(t, len(p.Category), len(en.product.Category))
			for i := range p.Category {
				assert.Equal(t, p.Category[i], en.product.Category[i])
			}
			assert.Equal(t, p.summaryText(), en.summaryText())
			assert.Equal(t, p.text(), en.text())
			assert.Equal(t, p.header(), en.header())
			for _, key := range []string{"brand", "category", "color", "size", "zz", "material", ""} {
				v, ok := p.field(key)
				gv, gok := rec.field(key)
				assert.Equal(t, ok, gok, "%s %q", p.ID, key)
				assert.Equal(t, v, gv, "%s %q", p.ID, key)
			}
		}
	}
	// The attributes' order is the keys', whatever the map's: the same
	// product always has the same record.
	p := recordProducts()[2]
	assert.Equal(t, encodeRecord(&p, nil), encodeRecord(&p, nil))
}

// TestRecordRejects checks what check and decode refuse: bytes of another
// format, truncated or trailing bytes, and products the engine would not
// have written.
func TestRecordRejects(t *testing.T) {
	good := recordProducts()[2]
	rec := encodeRecord(&good, []byte{7})
	bad := map[string]record{
		"empty":     "",
		"format":    "\x02" + rec[1:],
		"truncated": rec[:len(rec)-1],
		"trailing":  rec + "\x00",
		"blank ID":  encodeRecord(&Product{ID: " ", Title: "t"}, nil),
		"reserved":  encodeRecord(&Product{ID: "x", Title: "t", Attributes: map[string]string{"brand": "b"}}, nil),
		"empty key": encodeRecord(&Product{ID: "x", Title: "t", Attributes: map[string]string{"": "b"}}, nil),
		// A first image picture for a product without image bytes.
		"picture": record(string(encodeRecord(&Product{ID: "x", Title: "t"}, nil)[:len(encodeRecord(&Product{ID: "x", Title: "t"}, nil))-1]) + "\x01"),
	}
	for name, r := range bad {
		assert.Error(t, r.check(), name)
	}
	for _, name := range []string{"empty", "format", "truncated", "trailing", "picture"} {
		_, _, err := bad[name].decode()
		assert.ErrorIs(t, err, errRecord, name)
	}
}

func FuzzRecord(f *testing.F) {
	for _, p := range recordProducts() {
		f.Add(string(encodeRecord(&p, firstImageData(p.Images))))
	}
	f.Add("")
	f.Add("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")
	f.Fuzz(func(t *testing.T, s string) {
		rec := record(s)
		// No reader panics, whatever the bytes.
		rec.id()
		rec.field("brand")
		rec.field("category")
		rec.field("color")
		rec.picture()
		rec.hasPicture()
		newEntry(rec, nil).summaryText()
		p, picture, err := rec.decode()
		if rec.check() != nil {
			return
		}
		// A record that checks decodes, and encodes back to itself.
		require.NoError(t, err)
		require.Equal(t, rec, encodeRecord(&p, picture))
	})
}

// TestEngineKeepsOneCopyOfEachVector checks that with the embedded index the
// engine keeps no vector of its own and gives the index no metadata, and
// that with an index that does not lend its vectors it keeps them, both
// answering alike, filters included.
func TestEngineKeepsOneCopyOfEachVector(t *testing.T) {
	ctx := context.Background()
	lending := newTestEngine(t)
	require.NotNil(t, lending.reader)
	require.Nil(t, lending.vectors)
	recs, err := lending.ix.Get(ctx, "boot-leather-1")
	require.NoError(t, err)
	assert.Nil(t, recs[0].Metadata, "the engine filters on its records")

	inner, err := retrieval.NewEmbedded(retrieval.DefaultTextDimension+retrieval.ColorLayoutDimension, retrieval.InnerProduct)
	require.NoError(t, err)
	keeping := newTestEngine(t, WithIndex(&slowIndex{Index: inner}))
	require.Nil(t, keeping.reader)
	require.Len(t, keeping.vectors, len(testCatalog()))
	recs, err = inner.Get(ctx, "boot-leather-1")
	require.NoError(t, err)
	assert.Equal(t, testCatalog()[0].metadata(), recs[0].Metadata)

	for _, req := range []Request{
		{Query: "waterproof boots", HistoryIDs: leatherFan},
		{Query: "boots", Filter: retrieval.Filter{retrieval.In("brand", "Summit Lab", "Heritage Co")}},
		{Query: "boots", Filter: retrieval.Filter{retrieval.Prefix("category", "Shoes")}, HistoryIDs: trailFan},
	} {
		want, err := keeping.Search(ctx, req)
		require.NoError(t, err)
		got, err := lending.Search(ctx, req)
		require.NoError(t, err)
		require.Equal(t, ids(want.Results), ids(got.Results), req.Query)
		for i := range want.Results {
			assert.Equal(t, want.Results[i].Score, got.Results[i].Score)
			assert.Equal(t, want.Results[i].Product, got.Results[i].Product)
		}
	}
}

// TestSaveOpenManyProducts saves and opens a catalog large enough that
// Open checks its records on every CPU, and searches the two alike.
func TestSaveOpenManyProducts(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, WithImageEmbedder(nil))
	var products []Product
	for i := range 3000 {
		products = append(products, benchProduct(benchRNG(), i))
	}
	require.NoError(t, e.Upsert(ctx, products...))
	path := filepath.Join(t.TempDir(), "many.hmpps")
	require.NoError(t, e.Save(ctx, path))
	loaded, err := Open(ctx, path, WithImageEmbedder(nil))
	require.NoError(t, err)
	defer loaded.Close()
	require.Equal(t, e.Len(), loaded.Len())
	for _, req := range benchRequests(8) {
		req.HistoryIDs = req.HistoryIDs[:0]
		want, err := e.Search(ctx, req)
		require.NoError(t, err)
		got, err := loaded.Search(ctx, req)
		require.NoError(t, err)
		require.Equal(t, want.Results, got.Results, req.Query)
	}
	got, err := loaded.Get(ctx, products[1234].ID)
	require.NoError(t, err)
	require.Equal(t, products[1234], got)

	// The file of the opened engine is the same file.
	again := filepath.Join(t.TempDir(), "again.hmpps")
	require.NoError(t, loaded.Save(ctx, again))
	a, err := os.ReadFile(path)
	require.NoError(t, err)
	b, err := os.ReadFile(again)
	require.NoError(t, err)
	require.Equal(t, a, b)
}
