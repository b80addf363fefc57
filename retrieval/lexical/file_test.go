package lexical

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
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
	// One word "a"; then the documents, each an ID, four lengths, a count
	// of words, and per word its gap and four frequencies.
	oneWord := encode(Format, 1, "a")
	tests := []struct {
		name       string
		data       []byte
		wantFormat bool
	}{
		{"other format", append(uv(Format+1), good[1:]...), true},
		{"empty", nil, false},
		{"truncated", good[:len(good)-3], false},
		{"trailing bytes", append(slices.Clone(good), 0), false},
		{"words out of order", encode(Format, 2, "b", "a", 0), false},
		{"empty word", encode(Format, 1, "", 0), false},
		{"huge word count", encode(Format, 1<<40), false},
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
	f.Add([]byte{})
	f.Add([]byte{Format, 0, 0})
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
