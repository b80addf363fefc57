package retrieval

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"hmpps/internal/tokenize"
)

// DefaultTextDimension is the dimension hmpps uses for text vectors when the
// caller names none. 384 buckets keep hash collisions rare for product titles
// and short descriptions and match the size of small neural sentence
// encoders, so either can fill the same index.
const DefaultTextDimension = 384

const (
	// minHashingDimension keeps collisions from drowning every signal.
	minHashingDimension = 16
	// maxHashingDimension bounds the memory one vector may take (4 MiB).
	maxHashingDimension = 1 << 20

	// Feature weights, before the sublinear term frequency. A word counts
	// fully; a pair of adjacent words adds word order at half weight; the
	// character n-grams of a word share a total norm equal to the word's own,
	// so a misspelt word, which keeps about half of its n-grams, still scores
	// around 0.35 against the right one.
	unigramWeight = 1.0
	bigramWeight  = 0.5

	minCharGram = 3
	maxCharGram = 5

	// Seeds that keep the three feature kinds apart, so the word "boo" and
	// the n-gram "boo" land in different buckets.
	kindUnigram = 'u'
	kindBigram  = 'b'
	kindChar    = 'c'
)

// HashingEmbedder is an offline, deterministic text Embedder built on feature
// hashing (Weinberger et al., 2009): every word, every pair of adjacent words
// and every character 3- to 5-gram of each word (with "<" and ">" marking the
// word's boundaries, so "boots" gives "<bo", "boo", ..., "ts>") is hashed with
// 64-bit FNV-1a into one of Dimension() buckets, with a sign taken from the
// hash so that collisions cancel on average instead of piling up. A word
// weighs 1, a word pair 0.5, and the n-grams of one word share a norm of 1
// (each weighs 1/sqrt(n) for n n-grams), so spelling counts as much as the
// word itself and a long word does not outweigh a short one. A feature seen
// tf times in one text weighs 1+ln(tf) times its base weight, so a title that
// repeats "boots" five times is not five times about boots. Vectors are
// L2-normalized, so cosine and inner product agree.
//
// It is LEXICAL: it matches words and spelling, not meaning. "sneakers" and
// "running shoes" are unrelated to it, while "waterproof" and the typo
// "waterprof" stay close through their shared n-grams. It needs no model and
// no network, which makes it the right default for tests, examples and
// catalogues where queries reuse the products' own words; plug in a neural
// Embedder (an EmbedderFunc over a model server) for semantic matching.
//
// The zero value is not usable; call NewHashingEmbedder. A HashingEmbedder is
// immutable and safe for concurrent use.
type HashingEmbedder struct {
	dim int
}

var _ Embedder = (*HashingEmbedder)(nil)

// NewHashingEmbedder returns a HashingEmbedder whose vectors have dim
// components; dim must be between 16 and 1<<20 (DefaultTextDimension is a
// good choice). A different dim gives unrelated vectors, so an index must be
// filled and queried with the same one.
func NewHashingEmbedder(dim int) (*HashingEmbedder, error) {
	if dim < minHashingDimension || dim > maxHashingDimension {
		return nil, fmt.Errorf("%w: hashing embedder dimension %d is outside [%d, %d]",
			ErrInvalidConfig, dim, minHashingDimension, maxHashingDimension)
	}
	return &HashingEmbedder{dim: dim}, nil
}

// Dimension returns the length of every vector Embed returns.
func (e *HashingEmbedder) Dimension() int { return e.dim }

// Embed returns one unit vector per text. A text without any word (empty, or
// only punctuation) has no direction and fails the call with an error naming
// its position and wrapping ErrInvalidVector. Cancelling ctx stops the call
// between two texts.
func (e *HashingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	var s hashingScratch
	for i, text := range texts {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("retrieval: hashing embedder: %w", err)
		}
		v := make([]float32, e.dim)
		if !s.embed(v, text) {
			return nil, fmt.Errorf("retrieval: hashing embedder: text %d has no words: %w", i, ErrInvalidVector)
		}
		if err := Normalize(v); err != nil {
			// Only reachable if every feature cancelled out in the buckets.
			return nil, fmt.Errorf("retrieval: hashing embedder: text %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// hashedFeature is one occurrence of a feature: its mixed hash and the weight
// this occurrence contributes.
type hashedFeature struct {
	hash   uint64
	weight float32
}

// hashingScratch holds the buffers one Embed call reuses across its texts,
// so the cost per feature is hashing, not allocation.
type hashingScratch struct {
	words    []string
	runes    []rune
	features []hashedFeature
}

// embed adds the text's features into v (which must be zeroed) and reports
// whether the text had any word.
func (s *hashingScratch) embed(v []float32, text string) bool {
	s.words = tokenize.AppendWords(s.words[:0], text)
	if len(s.words) == 0 {
		return false
	}
	s.features = s.features[:0]
	for i, w := range s.words {
		s.features = append(s.features, hashedFeature{hash: mixHash(fnvString(fnvKind(kindUnigram), w)), weight: unigramWeight})
		if i > 0 {
			h := fnvString(fnvKind(kindBigram), s.words[i-1])
			h = fnvByte(h, ' ') // never inside a word, so "ab"+"c" differs from "a"+"bc"
			h = fnvString(h, w)
			s.features = append(s.features, hashedFeature{hash: mixHash(h), weight: bigramWeight})
		}
		s.appendCharGrams(w)
	}

	// Sort equal features together to count them without a map.
	slices.SortFunc(s.features, func(a, b hashedFeature) int { return cmp.Compare(a.hash, b.hash) })
	dim := uint64(len(v))
	for i := 0; i < len(s.features); {
		j := i
		var sum float32
		for ; j < len(s.features) && s.features[j].hash == s.features[i].hash; j++ {
			sum += s.features[j].weight
		}
		tf := j - i
		// Mean occurrence weight times 1+ln(tf): sublinear term frequency.
		w := sum / float32(tf) * float32(1+math.Log(float64(tf)))
		h := s.features[i].hash
		if h>>63 != 0 {
			w = -w
		}
		v[h%dim] += w
		i = j
	}
	return true
}

// appendCharGrams appends the character n-grams of word, padded with the
// boundary markers, each weighted 1/sqrt(n) for the word's n n-grams.
func (s *hashingScratch) appendCharGrams(word string) {
	s.runes = append(s.runes[:0], '<')
	for _, r := range word {
		s.runes = append(s.runes, r)
	}
	s.runes = append(s.runes, '>')
	n := 0
	for g := minCharGram; g <= maxCharGram; g++ {
		if len(s.runes) >= g {
			n += len(s.runes) - g + 1
		}
	}
	weight := float32(1 / math.Sqrt(float64(n)))
	var buf [utf8.UTFMax]byte
	for g := minCharGram; g <= maxCharGram; g++ {
		for start := 0; start+g <= len(s.runes); start++ {
			h := fnvKind(kindChar)
			for _, r := range s.runes[start : start+g] {
				k := utf8.EncodeRune(buf[:], r)
				for _, b := range buf[:k] {
					h = fnvByte(h, b)
				}
			}
			s.features = append(s.features, hashedFeature{hash: mixHash(h), weight: weight})
		}
	}
}

// 64-bit FNV-1a, inlined so that hashing a feature never allocates.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnvKind(kind byte) uint64 { return fnvByte(fnvOffset64, kind) }

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime64 }

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = fnvByte(h, s[i])
	}
	return h
}

// mixHash is the 64-bit finalizer of MurmurHash3. FNV's last step is a multiply,
// which leaves the top bit (our sign) and the low bits (our bucket) weakly
// dependent on the last bytes; mixing spreads every input bit over both.
func mixHash(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
