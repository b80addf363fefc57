package retrieval

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

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
// L2-normalized, so cosine and inner product agree, and do not depend on the
// order in which a text's features are gathered (see hashingScratch.embed).
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
	// scratch holds *hashingScratch values, so that embedding a query
	// allocates only its vector.
	scratch sync.Pool
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
// its position (the first such one) and wrapping ErrInvalidVector.
// Cancelling ctx stops the call between two texts. A large batch is spread
// over the CPUs.
func (e *HashingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	// One backing array for the batch: a catalog keeps its vectors.
	backing := make([]float32, len(texts)*e.dim)
	workers := max(1, min(runtime.GOMAXPROCS(0), len(texts)/minTextsPerWorker))
	per := (len(texts) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min(len(texts), (w+1)*per)
		work := func() {
			s, _ := e.scratch.Get().(*hashingScratch)
			if s == nil {
				s = &hashingScratch{}
			}
			defer e.scratch.Put(s)
			for i := lo; i < hi; i++ {
				if err := ctx.Err(); err != nil {
					errs[w] = fmt.Errorf("retrieval: hashing embedder: %w", err)
					return
				}
				v := backing[i*e.dim : (i+1)*e.dim : (i+1)*e.dim]
				if !s.embed(v, texts[i]) {
					errs[w] = fmt.Errorf("retrieval: hashing embedder: text %d has no words: %w", i, ErrInvalidVector)
					return
				}
				if err := Normalize(v); err != nil {
					// Only reachable if every feature cancelled out in the buckets.
					errs[w] = fmt.Errorf("retrieval: hashing embedder: text %d: %w", i, err)
					return
				}
				out[i] = v
			}
		}
		if w == workers-1 {
			work()
			continue
		}
		wg.Go(work)
	}
	wg.Wait()
	// Workers take consecutive texts, so the first worker's error is about
	// the first text that failed.
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// minTextsPerWorker is the smallest share of a batch worth a goroutine of
// its own: a text takes some 20 µs.
const minTextsPerWorker = 64

// hashingScratch holds the buffers one goroutine of Embed reuses across its
// texts, and Embed calls reuse through the pool, so the cost per feature is
// hashing, not allocation.
type hashingScratch struct {
	words []string
	// grams is a word with its boundary markers, and starts the byte
	// offset of each of its runes, then its length.
	grams  []byte
	starts []int32
	// table sums the weights of each distinct feature of a text, open
	// addressing on the feature's hash; used lists its occupied slots.
	table []featureSum
	used  []int32
	// sums are the buckets' sums, in float64: see embed.
	sums []float64
}

// featureSum is one distinct feature of a text: its hash, the sum of its
// occurrences' weights and their number.
type featureSum struct {
	hash  uint64
	sum   float64
	count int32
}

// embed sets v (zeroed, of the embedder's dimension) to the text's features
// and reports whether the text had any word.
//
// Every occurrence of a feature adds its weight to the feature's sum; each
// distinct feature then adds sum/tf·(1+ln tf), rounded to float32 and signed
// by its hash's top bit, to its bucket. Both sums are in float64, where
// adding float32 weights is exact for any text of reasonable size, so the
// vector does not depend on the order in which features are met, and no
// sort is needed to gather them.
func (s *hashingScratch) embed(v []float32, text string) bool {
	s.words = tokenize.AppendWords(s.words[:0], text)
	if len(s.words) == 0 {
		return false
	}
	s.reset(len(s.words))
	for i, w := range s.words {
		s.add(mixHash(fnvString(fnvKind(kindUnigram), w)), unigramWeight)
		if i > 0 {
			h := fnvString(fnvKind(kindBigram), s.words[i-1])
			h = fnvByte(h, ' ') // never inside a word, so "ab"+"c" differs from "a"+"bc"
			h = fnvString(h, w)
			s.add(mixHash(h), bigramWeight)
		}
		s.addCharGrams(w)
	}
	dim := uint64(len(v))
	if cap(s.sums) < len(v) {
		s.sums = make([]float64, len(v))
	}
	sums := s.sums[:len(v)]
	clear(sums)
	for _, slot := range s.used {
		f := &s.table[slot]
		w := f.sum
		if f.count > 1 {
			// Mean occurrence weight times 1+ln(tf): sublinear term frequency.
			w = w / float64(f.count) * (1 + math.Log(float64(f.count)))
		}
		w = float64(float32(w))
		if f.hash>>63 != 0 {
			w = -w
		}
		sums[f.hash%dim] += w
	}
	for j, x := range sums {
		v[j] = float32(x)
	}
	return true
}

// reset empties the table for a text of words words.
func (s *hashingScratch) reset(words int) {
	for _, slot := range s.used {
		s.table[slot] = featureSum{}
	}
	s.used = s.used[:0]
	// About fourteen features a word; a table at most half full.
	want := 32
	for want < 2*16*words {
		want *= 2
	}
	if len(s.table) < want {
		s.table = make([]featureSum, want)
	}
}

// add counts one occurrence of the feature h of weight w.
func (s *hashingScratch) add(h uint64, w float32) {
	if 2*(len(s.used)+1) > len(s.table) {
		s.grow()
	}
	mask := uint64(len(s.table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		f := &s.table[i]
		switch {
		case f.count == 0:
			*f = featureSum{hash: h, sum: float64(w), count: 1}
			s.used = append(s.used, int32(i))
			return
		case f.hash == h:
			f.sum += float64(w)
			f.count++
			return
		}
	}
}

// grow doubles the table, keeping its features.
func (s *hashingScratch) grow() {
	old := s.table
	s.table = make([]featureSum, 2*len(old))
	mask := uint64(len(s.table) - 1)
	used := s.used
	s.used = s.used[:0]
	for _, slot := range used {
		f := old[slot]
		i := f.hash & mask
		for s.table[i].count != 0 {
			i = (i + 1) & mask
		}
		s.table[i] = f
		s.used = append(s.used, int32(i))
	}
}

// addCharGrams adds the character n-grams of word, padded with the
// boundary markers, each weighted 1/sqrt(n) for the word's n n-grams.
func (s *hashingScratch) addCharGrams(word string) {
	// The word as bytes with its markers, and where each rune starts, so
	// that an n-gram of runes is a substring of bytes.
	s.grams = append(append(append(s.grams[:0], '<'), word...), '>')
	s.starts = s.starts[:0]
	for i := range string(s.grams) {
		s.starts = append(s.starts, int32(i))
	}
	s.starts = append(s.starts, int32(len(s.grams)))
	runes := len(s.starts) - 1
	n := 0
	for g := minCharGram; g <= maxCharGram; g++ {
		if runes >= g {
			n += runes - g + 1
		}
	}
	weight := float32(1 / math.Sqrt(float64(n)))
	for start := 0; start+minCharGram <= runes; start++ {
		h := fnvKind(kindChar)
		h = fnvBytes(h, s.grams[s.starts[start]:s.starts[start+minCharGram]])
		s.add(mixHash(h), weight)
		for g := minCharGram + 1; g <= maxCharGram && start+g <= runes; g++ {
			h = fnvBytes(h, s.grams[s.starts[start+g-1]:s.starts[start+g]])
			s.add(mixHash(h), weight)
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

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = fnvByte(h, c)
	}
	return h
}

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
