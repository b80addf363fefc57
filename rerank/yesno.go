package rerank

import (
	"math"
	"strings"
	"unicode"

	"github.com/ollama/ollama/api"
)

// answer is what a token or a word says.
type answer int

const (
	neither answer = iota
	yes
	no
)

// classify reads one generated token or word as yes, no or neither,
// ignoring case, surrounding whitespace and punctuation, and the word-start
// markers some tokenizers leave in token text ("▁Yes", "ĠNo").
func classify(tok string) answer {
	tok = strings.TrimFunc(tok, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || r == '▁' || r == 'Ġ'
	})
	switch strings.ToLower(tok) {
	case "yes":
		return yes
	case "no":
		return no
	}
	return neither
}

// maxLogprob is how far above 0 a log-probability may be before it is
// treated as corrupt instead of as rounding error.
const maxLogprob = 1e-6

// scoreFromLogprobs returns P(yes) / (P(yes) + P(no)) at the first generated
// position whose top alternatives include a yes or a no, summing every
// variant of each ("yes", " Yes", "YES", ...). A side missing from the top
// alternatives counts as 0. ok is false when no position has either, or the
// log-probabilities are not finite numbers at or below 0.
func scoreFromLogprobs(lps []api.Logprob) (score float64, ok bool) {
	for _, lp := range lps {
		var pYes, pNo float64
		found := false
		for _, alt := range lp.TopLogprobs {
			a := classify(alt.Token)
			if a == neither {
				continue
			}
			l := alt.Logprob
			if math.IsNaN(l) || l > maxLogprob {
				continue
			}
			found = true
			p := math.Exp(min(l, 0))
			if a == yes {
				pYes += p
			} else {
				pNo += p
			}
		}
		if !found {
			continue
		}
		if sum := pYes + pNo; sum > 0 && !math.IsInf(sum, 0) {
			return pYes / sum, true
		}
		return 0, false
	}
	return 0, false
}

// scoreFromText reads the generated text's first word: 1 for yes, 0 for no.
// It is the fallback for servers or models that return no
// log-probabilities; it loses the model's confidence.
func scoreFromText(s string) (score float64, ok bool) {
	first := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if len(first) == 0 {
		return 0, false
	}
	switch classify(first[0]) {
	case yes:
		return 1, true
	case no:
		return 0, true
	}
	return 0, false
}
