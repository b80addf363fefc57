package summarize

// The Extractive summarizer as it was before texts could be prepared, kept
// as the definition the prepared one must match summary for summary.

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"hmpps/internal/htmltext"
	"hmpps/internal/tokenize"
)

func referenceSummarize(e Extractive, ctx context.Context, query string, doc Document, maxWords int) (Summary, error) {
	if err := ctx.Err(); err != nil {
		return Summary{}, fmt.Errorf("summarize: extractive %q: %w", doc.ID, err)
	}
	if maxWords <= 0 {
		maxWords = DefaultMaxWords
	}
	text := htmltext.Plain(doc.Text)
	if countWords(text, maxWords+1) <= maxWords {
		return Summary{Text: text}, nil
	}
	sents := refSentences(e, text)
	if len(sents) == 0 {
		return Summary{}, nil
	}
	terms := refTerms(e, tokenize.Words(query))
	idf := refScore(e, sents, terms)

	order := make([]int, len(sents))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(sents[b].score, sents[a].score)
	})

	var picked []int
	left := maxWords
	for _, i := range order {
		if left == 0 {
			break
		}
		if sents[i].words <= left {
			picked = append(picked, i)
			left -= sents[i].words
			continue
		}
		if len(picked) == 0 {
			return Summary{Text: refCut(e, sents[i].text, maxWords, idf)}, nil
		}
	}
	slices.Sort(picked)
	var b strings.Builder
	for _, i := range picked {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(refCloseSentence(sents[i].text))
	}
	return Summary{Text: b.String()}, nil
}

// sentence is one candidate sentence of a document.
type refSentence struct {
	text string
	// words is the sentence's cost against the budget.
	words int
	// terms are its stemmed tokens without stopwords, for scoring.
	terms []string
	// hasNumber marks a likely specification (see Extractive.SpecBoost).
	hasNumber bool
	// score ranks the sentence; zero when it matches no query term.
	score float64
}

// sentences splits text into sentences, dropping those without words and
// repeats of an earlier sentence (descriptions often restate a bullet in the
// prose).
func refSentences(e Extractive, text string) []refSentence {
	var out []refSentence
	seen := make(map[string]bool)
	for _, s := range splitSentences(text) {
		words := tokenize.Words(s)
		key := strings.Join(words, " ")
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		hasNumber := false
		for _, w := range words {
			if strings.ContainsFunc(w, unicode.IsDigit) {
				hasNumber = true
				break
			}
		}
		out = append(out, refSentence{
			text:      s,
			words:     len(strings.Fields(s)),
			terms:     refTerms(e, words),
			hasNumber: hasNumber,
		})
	}
	return out
}

// terms returns the stemmed words of words without stopwords, in order.
func refTerms(e Extractive, words []string) []string {
	stop := e.Stopwords
	if stop == nil {
		stop = englishStopwords
	}
	out := words[:0:0]
	for _, w := range words {
		if !stop[w] {
			out = append(out, stem(w))
		}
	}
	return out
}

// score sets each sentence's score: its BM25 relevance to the query terms,
// raised by SpecBoost when it carries a number and by the position prior. It
// returns the inverse document frequency of each distinct query term, counting
// each sentence as a document. It takes time linear in the number of terms.
func refScore(e Extractive, sents []refSentence, query []string) map[string]float64 {
	index := make(map[string]int, len(query))
	for _, q := range query {
		if _, ok := index[q]; !ok {
			index[q] = len(index)
		}
	}
	if len(index) == 0 {
		return nil
	}
	// matches[i] holds sentence i's query terms with their frequencies, by
	// term index: summing in that fixed order keeps the scores, and so the
	// ties between them, identical from run to run.
	type refMatch struct{ term, tf int }
	matches := make([][]refMatch, len(sents))
	df := make([]float64, len(index))
	tf := make([]int, len(index))
	var total int
	for i, s := range sents {
		total += len(s.terms)
		var seen []int
		for _, t := range s.terms {
			if j, ok := index[t]; ok {
				if tf[j] == 0 {
					seen = append(seen, j)
				}
				tf[j]++
			}
		}
		slices.Sort(seen)
		for _, j := range seen {
			matches[i] = append(matches[i], refMatch{j, tf[j]})
			df[j]++
			tf[j] = 0
		}
	}
	n := float64(len(sents))
	idf := make(map[string]float64, len(index))
	weights := make([]float64, len(index))
	for q, j := range index {
		// The BM25 idf with 1 added inside the log, so that a term found in
		// every sentence still counts a little instead of going negative.
		weights[j] = math.Log(1 + (n-df[j]+0.5)/(df[j]+0.5))
		idf[q] = weights[j]
	}
	avg := math.Max(float64(total)/n, 1)
	boost := e.SpecBoost
	if boost == 0 {
		boost = defaultSpecBoost
	}
	for i := range sents {
		if len(matches[i]) == 0 {
			continue
		}
		s := &sents[i]
		norm := bm25K1 * (1 - bm25B + bm25B*float64(len(s.terms))/avg)
		var rel float64
		for _, m := range matches[i] {
			tf := float64(m.tf)
			rel += weights[m.term] * tf * (bm25K1 + 1) / (tf + norm)
		}
		if s.hasNumber && boost > 0 {
			rel *= 1 + boost
		}
		s.score = rel * (1 + positionBoost/float64(i+1))
	}
	return idf
}

// cut returns the maxWords consecutive words of s that hold the most query
// weight (the earliest such run on ties, so the start without a query), with
// the ellipsis attached where words were dropped.
func refCut(e Extractive, s string, maxWords int, idf map[string]float64) string {
	fields := strings.Fields(s)
	if len(fields) <= maxWords {
		return s
	}
	weight := make([]float64, len(fields))
	if len(idf) > 0 {
		for i, f := range fields {
			for _, t := range refTerms(e, tokenize.Words(f)) {
				weight[i] += idf[t]
			}
		}
	}
	var sum float64
	for _, w := range weight[:maxWords] {
		sum += w
	}
	best, bestSum := 0, sum
	for start := 1; start+maxWords <= len(fields); start++ {
		sum += weight[start+maxWords-1] - weight[start-1]
		// A margin keeps float drift from moving an equal run later.
		if sum > bestSum+1e-9 {
			best, bestSum = start, sum
		}
	}
	ellipsis := e.Ellipsis
	if ellipsis == "" {
		ellipsis = defaultEllipsis
	}
	kept := slices.Clone(fields[best : best+maxWords])
	if best > 0 {
		kept[0] = ellipsis + kept[0]
	}
	if best+maxWords < len(fields) {
		last := len(kept) - 1
		kept[last] = strings.TrimRight(kept[last], ",;:") + ellipsis
	}
	return strings.Join(kept, " ")
}

// closeSentence ends s with a period unless it already ends with closing
// punctuation, replacing a trailing comma, colon or dash.
func refCloseSentence(s string) string {
	t := strings.TrimRightFunc(s, isCloser)
	if r, _ := utf8.DecodeLastRuneInString(t); isTerminator(r) {
		return s
	}
	t = strings.TrimRight(s, ",;:-–— ")
	if t == "" {
		return s
	}
	return t + "."
}

var referenceQueries = []string{"", "waterproof boots for rain", "leather", "Vibram sole grip", "the of and", "batteries boxes dresses", "1.1 kg size 9"}

func TestExtractiveMatchesReference(t *testing.T) {
	ctx := context.Background()
	texts := []string{bootText, benchText(), "", "<ul><li>a</li><li>b c d e f</li></ul>", "No. 5. e.g. 3.5 approx. • - * | ...",
		"Waterproof boots. Waterproof boots! Boots, waterproof, warm, dry; light,", strings.Repeat("word rain ", 80)}
	for _, e := range []Extractive{{}, {Stopwords: map[string]bool{}}, {SpecBoost: -1, Ellipsis: "..."}} {
		for _, text := range texts {
			p := e.Prepare(text)
			for _, q := range referenceQueries {
				for _, maxWords := range []int{0, 1, 3, 10, 25, 1000} {
					want, err := referenceSummarize(e, ctx, q, Document{Text: text}, maxWords)
					require.NoError(t, err)
					got, err := e.Summarize(ctx, q, Document{Text: text}, maxWords)
					require.NoError(t, err)
					require.Equal(t, want, got, "%q %q %d", text, q, maxWords)
					got, err = e.Summarize(ctx, q, Document{Text: "ignored", Prepared: p}, maxWords)
					require.NoError(t, err)
					require.Equal(t, want, got, "prepared %q %q %d", text, q, maxWords)
				}
			}
		}
	}
}

func TestPreparedServesOnlyItsStopwords(t *testing.T) {
	ctx := context.Background()
	custom := Extractive{Stopwords: map[string]bool{"waterproof": true}}
	p := Extractive{}.Prepare(bootText)
	want, err := custom.Summarize(ctx, "waterproof boots", Document{Text: bootText}, 10)
	require.NoError(t, err)
	got, err := custom.Summarize(ctx, "waterproof boots", Document{Text: bootText, Prepared: p}, 10)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, htmltext.Plain(bootText), p.Text())
}

func TestPreparedSummaryAllocatesOnlyItsText(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops buffers at random")
	}
	ctx := context.Background()
	e := Extractive{}
	doc := Document{Prepared: e.Prepare(benchText())}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := e.Summarize(ctx, "waterproof leather boots with a grippy sole", doc, DefaultMaxWords); err != nil {
			t.Fatal(err)
		}
	})
	require.LessOrEqual(t, allocs, 1.0)
}

func FuzzExtractiveMatchesReference(f *testing.F) {
	f.Add("waterproof boots", bootText, uint8(12))
	f.Add("", "<ul><li>a</li><li>b c d e f</li></ul>", uint8(2))
	f.Add("x", "No. 5. e.g. 3.5 approx. • - * | ...", uint8(1))
	f.Fuzz(func(t *testing.T, query, text string, budget uint8) {
		ctx := context.Background()
		want, _ := referenceSummarize(Extractive{}, ctx, query, Document{Text: text}, int(budget))
		got, _ := Extractive{}.Summarize(ctx, query, Document{Prepared: Extractive{}.Prepare(text)}, int(budget))
		if want != got {
			t.Fatalf("got %q, want %q", got.Text, want.Text)
		}
	})
}
