package retrieval

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/viterin/vek/vek32"
)

func newTestHashing(t testing.TB) *HashingEmbedder {
	t.Helper()
	e, err := NewHashingEmbedder(DefaultTextDimension)
	require.NoError(t, err)
	return e
}

func embedOne(t testing.TB, e Embedder, text string) []float32 {
	t.Helper()
	vs, err := e.Embed(context.Background(), []string{text})
	require.NoError(t, err)
	require.Len(t, vs, 1)
	return vs[0]
}

func TestNewHashingEmbedder(t *testing.T) {
	tests := []struct {
		name    string
		dim     int
		wantErr bool
	}{
		{"default", DefaultTextDimension, false},
		{"minimum", 16, false},
		{"odd size", 1000, false},
		{"too small", 15, true},
		{"zero", 0, true},
		{"negative", -384, true},
		{"too large", 1<<20 + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewHashingEmbedder(tt.dim)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalidConfig)
				assert.Nil(t, e)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.dim, e.Dimension())
			v := embedOne(t, e, "waterproof hiking boots")
			assert.Len(t, v, tt.dim)
		})
	}
}

func TestHashingEmbedderUnitNormAndDeterminism(t *testing.T) {
	texts := []string{
		"Waterproof Hiking Boots",
		"a",
		"Women's GORE-TEX trail runner, size 10",
		"boots boots boots boots boots",
		"Crème brûlée für Café 日本語",
	}
	e := newTestHashing(t)
	first, err := e.Embed(context.Background(), texts)
	require.NoError(t, err)
	require.Len(t, first, len(texts))

	other := newTestHashing(t) // a second instance must agree: no hidden seed
	second, err := other.Embed(context.Background(), texts)
	require.NoError(t, err)
	for i, v := range first {
		assert.Len(t, v, DefaultTextDimension)
		assert.InDelta(t, 1, vek32.Norm(v), 1e-5, "text %d", i)
		assert.Equal(t, v, second[i], "text %d", i)
		require.NoError(t, CheckVector(v, DefaultTextDimension))
	}
	// Case and punctuation do not matter: the tokenizer lowercases words.
	assert.Equal(t, embedOne(t, e, "waterproof hiking boots"), first[0])
}

func TestHashingEmbedderSimilarity(t *testing.T) {
	e := newTestHashing(t)
	cos := func(a, b string) float32 { return vek32.Dot(embedOne(t, e, a), embedOne(t, e, b)) }

	tests := []struct {
		name          string
		anchor        string
		closer, other string
	}{
		{"shared words", "waterproof hiking boots", "hiking boots for women", "stainless steel saucepan"},
		{"word order through bigrams", "leather boots brown", "brown leather boots", "boots leather brown"},
		{"typo through char n-grams", "waterproof", "waterprof", "saucepan"},
		{"plural through char n-grams", "boot", "boots", "kettle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			near, far := cos(tt.anchor, tt.closer), cos(tt.anchor, tt.other)
			assert.Greater(t, near, far, "cos(%q,%q)=%v vs cos(%q,%q)=%v",
				tt.anchor, tt.closer, near, tt.anchor, tt.other, far)
		})
	}

	assert.Greater(t, cos("waterproof", "waterprof"), float32(0.2), "a typo keeps most n-grams")
	assert.InDelta(t, 0, cos("waterproof hiking boots", "stainless steel saucepan"), 0.15, "unrelated texts are near orthogonal")
	// Lexical, not semantic: synonyms share no words and no n-grams worth anything.
	assert.Less(t, cos("sneakers", "running shoes"), float32(0.15))
}

func TestHashingEmbedderSublinearTF(t *testing.T) {
	e := newTestHashing(t)
	once := embedOne(t, e, "boots leather")
	many := embedOne(t, e, "boots boots boots boots boots boots boots boots leather")
	// Repeating a word raises its share, but far less than eightfold, so
	// "leather" still matters.
	leather := embedOne(t, e, "leather")
	assert.Greater(t, vek32.Dot(many, leather), float32(0.2))
	assert.Less(t, vek32.Dot(many, leather), vek32.Dot(once, leather))
}

func TestHashingEmbedderNoWords(t *testing.T) {
	e := newTestHashing(t)
	for _, text := range []string{"", "   ", "-- !! ??", "'"} {
		t.Run(fmt.Sprintf("%q", text), func(t *testing.T) {
			vs, err := e.Embed(context.Background(), []string{"fine text", text})
			require.ErrorIs(t, err, ErrInvalidVector)
			assert.Contains(t, err.Error(), "text 1 has no words")
			assert.Nil(t, vs)
		})
	}
}

func TestHashingEmbedderEmptyBatch(t *testing.T) {
	vs, err := newTestHashing(t).Embed(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, vs)
}

func TestHashingEmbedderCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newTestHashing(t).Embed(ctx, []string{"boots"})
	require.ErrorIs(t, err, context.Canceled)
}

func TestHashingEmbedderConcurrent(t *testing.T) {
	e := newTestHashing(t)
	want := embedOne(t, e, "waterproof hiking boots")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				vs, err := e.Embed(context.Background(), []string{"waterproof hiking boots", "red mug"})
				if assert.NoError(t, err) {
					assert.Equal(t, want, vs[0])
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzHashingEmbedder(f *testing.F) {
	for _, s := range []string{"", "Waterproof Hiking Boots", "a b", "\xff\xfe'x", "日本語 テキスト", "ab'cd 12 34"} {
		f.Add(s)
	}
	e, err := NewHashingEmbedder(64)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, s string) {
		vs, err := e.Embed(context.Background(), []string{s})
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidVector)
			return
		}
		require.Len(t, vs, 1)
		require.NoError(t, CheckVector(vs[0], 64))
		if n := vek32.Norm(vs[0]); math.Abs(float64(n)-1) > 1e-4 {
			t.Fatalf("norm %v for %q", n, s)
		}
	})
}

func BenchmarkHashingEmbedder(b *testing.B) {
	e, err := NewHashingEmbedder(DefaultTextDimension)
	require.NoError(b, err)
	texts := []string{
		"Merrell Men's Moab 3 Waterproof Hiking Boot, breathable leather and mesh upper, Vibram sole",
		"Stainless steel tri-ply saucepan with glass lid, 2 quart, induction compatible",
		"Women's cotton crew neck t-shirt, pack of 3, machine washable",
		"Wireless noise cancelling headphones with 30 hour battery life and quick charge",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(context.Background(), texts); err != nil {
			b.Fatal(err)
		}
	}
}
