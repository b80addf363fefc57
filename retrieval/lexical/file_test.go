package lexical

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireSameLexical checks that a and b score and search alike.
func requireSameLexical(t *testing.T, a, b *Index, ids []string) {
	t.Helper()
	require.Equal(t, a.Len(), b.Len())
	for _, q := range []string{"red shoe", "boot", "womens hiking boots", "größe", "the a", "silk silk leather", "waterproof", "nothing"} {
		require.Equal(t, a.Score(q, ids, nil), b.Score(q, ids, nil), q)
		require.Equal(t, a.Search(q, 20, nil), b.Search(q, 20, nil), q)
	}
}

func TestLexicalMarshalRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	l := mustNew(t, Params{})
	docs := make(map[string]Doc)
	for range 1000 {
		id := fmt.Sprintf("p%d", r.IntN(200))
		if r.IntN(4) == 0 {
			l.Delete(id)
			delete(docs, id)
			continue
		}
		d := randomLexicalDoc(r)
		l.Upsert(id, d)
		docs[id] = d
	}
	l.Upsert("", Doc{}) // the empty ID and a document without words
	docs[""] = Doc{}
	data, err := l.MarshalBinary()
	require.NoError(t, err)

	restored := mustNew(t, Params{TitleWeight: 5}) // parameters are not in the data
	restored.Upsert("stale", Doc{Title: "replaced by the data"})
	require.NoError(t, restored.UnmarshalBinary(data))
	ids := append(slices.Sorted(maps.Keys(docs)), "stale", "unknown")
	assert.Equal(t, Params{K1: 1.2, B: 0.75, TitleWeight: 5, BrandWeight: 2, CategoryWeight: 2, BodyWeight: 1}, restored.Params())
	requireSameLexical(t, newLexicalWith(Params{TitleWeight: 5}, docs), restored, ids)

	// The same documents encode alike whatever the history, and a restored
	// index keeps working incrementally.
	again, err := newLexicalWith(Params{}, docs).MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, data, again)
	restored.Upsert("new", Doc{Title: "red boot"})
	restored.Delete("p1", "p2")
	docs["new"] = Doc{Title: "red boot"}
	delete(docs, "p1")
	delete(docs, "p2")
	requireSameLexical(t, newLexicalWith(Params{TitleWeight: 5}, docs), restored, append(ids, "new"))
}

func TestLexicalUnmarshalEmpty(t *testing.T) {
	data, err := mustNew(t, Params{}).MarshalBinary()
	require.NoError(t, err)
	l := newLexicalWith(Params{}, lexicalCatalog)
	require.NoError(t, l.UnmarshalBinary(data))
	assert.Zero(t, l.Len())
	assert.Empty(t, l.Search("boots", 5, nil))
}

func TestLexicalUnmarshalRejects(t *testing.T) {
	good, err := newLexicalWith(Params{}, lexicalCatalog).MarshalBinary()
	require.NoError(t, err)
	uv := func(vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.AppendUvarint(b, v)
		}
		return b
	}
	str := func(s string) []byte { return append(uv(uint64(len(s))), s...) }
	// encode builds data from its parts: numbers, strings and byte slices.
	encode := func(parts ...any) []byte {
		var b []byte
		for _, p := range parts {
			switch p := p.(type) {
			case int:
				b = append(b, uv(uint64(p))...)
			case string:
				b = append(b, str(p)...)
			case []byte:
				b = append(b, p...)
			}
		}
		return b
	}
	// Format 1, which engine files of version 2 hold: one word "a"; then
	// the documents, each an ID, four lengths, a count of words, and per
	// word its gap and four frequencies.
	oneWord := encode(1, 1, "a")
	tests := []struct {
		name       string
		data       []byte
		wantFormat bool
	}{
		{"other format", append(uv(Format+1), good[1:]...), true},
		{"empty", nil, false},
		{"truncated", good[:len(good)-3], false},
		{"trailing bytes", append(slices.Clone(good), 0), false},
		{"words out of order", encode(1, 2, "b", "a", 0), false},
		{"empty word", encode(1, 1, "", 0), false},
		{"huge word count", encode(1, 1<<40), false},
		{"word no document holds", encode(oneWord, 0), false},
		{"document twice", encode(oneWord, 2, "x", 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, "x", 0, 0, 0, 0, 0), false},
		{"word out of range", encode(oneWord, 1, "x", 0, 0, 0, 1, 1, 2, 0, 0, 0, 1), false},
		{"word gap zero", encode(oneWord, 1, "x", 0, 0, 0, 1, 1, 0, 0, 0, 0, 1), false},
		{"word held zero times", encode(oneWord, 1, "x", 0, 0, 0, 1, 1, 1, 0, 0, 0, 0), false},
		{"more words than the field's length", encode(oneWord, 1, "x", 0, 0, 0, 1, 1, 1, 0, 0, 0, 2), false},
		{"frequency over uint16", encode(oneWord, 1, "x", 0, 0, 0, 1<<20, 1, 1, 0, 0, 0, 1<<17), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLexicalWith(Params{}, lexicalCatalog)
			err := l.UnmarshalBinary(tt.data)
			if tt.wantFormat {
				require.ErrorIs(t, err, ErrFormat)
			} else {
				require.ErrorIs(t, err, ErrCorrupt)
			}
			requireSameLexical(t, newLexicalWith(Params{}, lexicalCatalog), l, slices.Sorted(maps.Keys(lexicalCatalog)))
		})
	}
	// The valid document the bad ones are variations of.
	valid := encode(oneWord, 1, "x", 0, 0, 0, 1, 1, 1, 0, 0, 0, 1)
	l := mustNew(t, Params{})
	require.NoError(t, l.UnmarshalBinary(valid))
	assert.Equal(t, []string{"x"}, hitIDs(l.Search("a", 5, nil)))
}

func FuzzUnmarshal(f *testing.F) {
	good, err := newLexicalWith(Params{}, lexicalCatalog).MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(encodeFormat1(newLexicalWith(Params{}, lexicalCatalog)))
	f.Add([]byte{})
	f.Add([]byte{Format, 0, 0})
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		l := mustNew(t, Params{})
		if err := l.UnmarshalBinary(data); err != nil {
			return
		}
		// What decodes encodes back to bytes that decode to the same index.
		again, err := l.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		m := mustNew(t, Params{})
		if err := m.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoded data does not decode: %v", err)
		}
		third, _ := m.MarshalBinary()
		if string(third) != string(again) {
			t.Fatal("encoding is not stable")
		}
		l.Search("a b c x", 5, nil)
		l.Upsert("x", Doc{Title: "a"})
	})
}

// encodeFormat1 encodes l as format 1 did: each document, in ascending ID
// order, with its words and their frequencies.
func encodeFormat1(l *Index) []byte {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var words []string
	for t, w := range l.words {
		if l.df[t] > 0 {
			words = append(words, w)
		}
	}
	slices.Sort(words)
	number := make(map[int32]int, len(words))
	for i, w := range words {
		number[l.term[w]] = i
	}
	ids := slices.Sorted(maps.Keys(l.slot))
	b := binary.AppendUvarint(nil, 1)
	b = binary.AppendUvarint(b, uint64(len(words)))
	for _, w := range words {
		b = appendString(b, w)
	}
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		slot := l.slot[id]
		b = appendString(b, id)
		for _, n := range l.stats[slot].len {
			b = binary.AppendUvarint(b, uint64(n))
		}
		type held struct {
			n    int
			freq termFreq
		}
		var terms []held
		for _, t := range l.appendTerms(nil, slot) {
			freq, _ := l.freq(t, slot)
			terms = append(terms, held{number[t], freq})
		}
		slices.SortFunc(terms, func(a, b held) int { return a.n - b.n })
		b = binary.AppendUvarint(b, uint64(len(terms)))
		prev := -1
		for _, t := range terms {
			b = binary.AppendUvarint(b, uint64(t.n-prev))
			prev = t.n
			for _, f := range t.freq {
				b = binary.AppendUvarint(b, uint64(f))
			}
		}
	}
	return b
}

// TestLexicalUnmarshalFormat1 checks that statistics of format 1, which
// engine files of version 2 hold, restore the same index as the current
// format, and encode to the same bytes once restored.
func TestLexicalUnmarshalFormat1(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	docs := make(map[string]Doc)
	for range 500 {
		docs[fmt.Sprintf("p%d", r.IntN(300))] = randomLexicalDoc(r)
	}
	docs["big"] = Doc{Title: "boot " + strings.Repeat("red ", 40), Body: strings.Repeat("silk ", 70000)}
	l := newLexicalWith(Params{}, docs)
	old := mustNew(t, Params{})
	require.NoError(t, old.UnmarshalBinary(encodeFormat1(l)))
	ids := append(slices.Sorted(maps.Keys(docs)), "unknown")
	requireSameLexical(t, l, old, ids)
	want, err := l.MarshalBinary()
	require.NoError(t, err)
	got, err := old.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// TestLexicalUnmarshalRejectsFormat2 varies a valid encoding of the
// current format into impossible ones.
func TestLexicalUnmarshalRejectsFormat2(t *testing.T) {
	uv := func(vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.AppendUvarint(b, v)
		}
		return b
	}
	str := func(s string) []byte { return append(uv(uint64(len(s))), s...) }
	// word encodes one word's documents and packed frequencies, with its
	// escapes (pairs of position and four frequencies) already encoded.
	word := func(docs []uint32, packed []uint16, escapes ...uint64) []byte {
		var body []byte
		for _, d := range docs {
			body = binary.LittleEndian.AppendUint32(body, d)
		}
		for _, p := range packed {
			body = binary.LittleEndian.AppendUint16(body, p)
		}
		body = append(body, uv(escapes...)...)
		return append(uv(uint64(len(docs)), uint64(len(body))), body...)
	}
	cat := func(parts ...[]byte) []byte { return slices.Concat(parts...) }
	// Two words; two documents, "x" with a title of two words and "y" with
	// one; "a" in both titles, "b" in x's.
	head := cat(uv(Format, 2), str("a"), str("b"), uv(2), str("x"), uv(2, 0, 0, 0), str("y"), uv(1, 0, 0, 0))
	a := word([]uint32{0, 1}, []uint16{1, 1}, 0)
	b := word([]uint32{0}, []uint16{1}, 0)
	valid := cat(head, a, b)
	l := mustNew(t, Params{})
	require.NoError(t, l.UnmarshalBinary(valid))
	assert.Equal(t, []string{"y", "x"}, hitIDs(l.Search("a", 5, nil)), "y's title is shorter")
	assert.Equal(t, []string{"x"}, hitIDs(l.Search("b", 5, nil)))
	again, err := l.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, valid, again)
	l.Delete("x")
	assert.Empty(t, l.Search("b", 5, nil), "the words of a restored document are known to Delete")

	// An escaped frequency: "a" sixteen times in x's body.
	big := cat(uv(Format, 1), str("a"), uv(1), str("x"), uv(0, 0, 0, 20), word([]uint32{0}, []uint16{escaped}, 1, 0, 0, 0, 0, 16))
	require.NoError(t, mustNew(t, Params{}).UnmarshalBinary(big))

	tests := []struct {
		name string
		data []byte
	}{
		{"truncated", valid[:len(valid)-1]},
		{"trailing bytes", append(slices.Clone(valid), 0)},
		{"word no document holds", cat(head, word(nil, nil, 0), b)},
		{"more documents than the catalog", cat(head, word([]uint32{0, 1, 2}, []uint16{1, 1, 1}, 0), b)},
		{"documents out of order", cat(head, word([]uint32{1, 0}, []uint16{1, 1}, 0), b)},
		{"document twice", cat(head, word([]uint32{0, 0}, []uint16{1, 1}, 0), b)},
		{"document out of range", cat(head, word([]uint32{0, 2}, []uint16{1, 1}, 0), b)},
		{"word held zero times", cat(head, word([]uint32{0, 1}, []uint16{1, 0}, 0), b)},
		{"escape missing", cat(head, word([]uint32{0, 1}, []uint16{escaped, 1}, 0), b)},
		{"escape that fits nibbles", cat(head, word([]uint32{0, 1}, []uint16{escaped, 1}, 1, 0, 1, 0, 0, 0), b)},
		{"escape of an unescaped posting", cat(head, word([]uint32{0, 1}, []uint16{1, 1}, 1, 0, 0, 0, 0, 16), b)},
		{"byte count short", cat(head, append(uv(2, 12), a[2:]...), b)},
		{"byte count long", cat(head, append(uv(2, 14), a[2:]...), b)},
		{"same ID twice", cat(uv(Format, 2), str("a"), str("b"), uv(2), str("x"), uv(2, 0, 0, 0), str("x"), uv(1, 0, 0, 0), a, b)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLexicalWith(Params{}, lexicalCatalog)
			require.ErrorIs(t, l.UnmarshalBinary(tt.data), ErrCorrupt)
			requireSameLexical(t, newLexicalWith(Params{}, lexicalCatalog), l, slices.Sorted(maps.Keys(lexicalCatalog)))
		})
	}
}
