package rerank

import (
	"fmt"
	"hash/fnv"
	"math"

	"github.com/ollama/ollama/api"
)

// MaxLogOdds bounds Verdict.LogOdds: beyond it, the log-probabilities say
// no more than that the model is sure, and a combination of signals should
// not be swamped by one answer.
const MaxLogOdds = 20

// Verdict is what a model answered about one candidate, kept beside its
// score so that a caller can weigh it against other signals (the hmpps
// engine learns how much to trust it on validation purchases, see
// hmpps.Calibrate) instead of letting it replace them.
type Verdict struct {
	// LogOdds is log P(yes) − log P(no) at the answer position, each side
	// summed over its spellings among the top alternatives, within
	// ±MaxLogOdds. A side missing from the alternatives counts as the most
	// it can be (the least likely alternative listed, or the mass the list
	// leaves), so the log-odds stay finite and lean toward 0. From an
	// answer read off the generated text alone (no log-probabilities), it
	// is ±MaxLogOdds.
	LogOdds float64
	// Mass is P(yes) + P(no) at the answer position: how much of the
	// model's answer was a yes or a no at all, in [0, 1]; 0 for an answer
	// read off the text.
	Mass float64
	// Answer is the token or word the model generated.
	Answer string
}

// P returns the probability of yes the log-odds give: P(yes) / (P(yes) +
// P(no)).
func (v Verdict) P() float64 { return 1 / (1 + math.Exp(-v.LogOdds)) }

// Judge is implemented by a Reranker whose scores are a model's yes/no
// verdicts, such as MLLM, reported in Score.Verdict. JudgeID names what
// gives them: the model, how it is asked and the prompt, so that weights fit
// on one judge's verdicts are never used with another's.
type Judge interface {
	Reranker
	JudgeID() string
}

var _ Judge = MLLM{}

// JudgeID returns the model's name, the mode and a hash of the prompt
// template, e.g. "qwen2.5vl:7b, chat, prompt 1a2b3c4d": a change to any of
// them changes what the verdicts mean. The number of candidates judged does
// not.
func (m MLLM) JudgeID() string {
	t := m.template()
	h := fnv.New32a()
	for _, part := range []string{t.System, t.Context, t.Candidate} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%s, %s, prompt %08x", m.Model, m.Mode, h.Sum32())
}

// verdictFromLogprobs reads the first generated position whose top
// alternatives hold a yes or a no (see scoreFromLogprobs) as a Verdict. ok
// is false when none does or the log-probabilities are not finite numbers
// at or below 0.
func verdictFromLogprobs(lps []api.Logprob) (v Verdict, ok bool) {
	for _, lp := range lps {
		var pYes, pNo, listed float64
		least := 1.0
		found := false
		for _, alt := range lp.TopLogprobs {
			l := alt.Logprob
			if math.IsNaN(l) || l > maxLogprob {
				continue
			}
			p := math.Exp(min(l, 0))
			listed += p
			least = min(least, p)
			switch classify(alt.Token) {
			case yes:
				pYes += p
				found = true
			case no:
				pNo += p
				found = true
			}
		}
		if !found {
			continue
		}
		// A side not listed is at most as likely as the least likely
		// alternative that is, and at most what the list leaves.
		bound := min(least, max(1-listed, 0))
		lYes, lNo := logOr(pYes, bound), logOr(pNo, bound)
		v = Verdict{LogOdds: clampLogOdds(lYes - lNo), Mass: min(pYes+pNo, 1), Answer: lp.Token}
		return v, true
	}
	return Verdict{}, false
}

// logOr returns log p, or log bound when p is 0; -Inf when both are 0,
// which clampLogOdds bounds.
func logOr(p, bound float64) float64 {
	if p > 0 {
		return math.Log(p)
	}
	return math.Log(bound)
}

// clampLogOdds bounds x to ±MaxLogOdds; NaN (both sides unbounded) is 0.
func clampLogOdds(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return max(-MaxLogOdds, min(MaxLogOdds, x))
}

// verdictFromText is the verdict of an answer read off the generated text:
// ±MaxLogOdds, no mass.
func verdictFromText(score float64, text string) Verdict {
	v := Verdict{LogOdds: -MaxLogOdds, Answer: text}
	if score > 0.5 {
		v.LogOdds = MaxLogOdds
	}
	return v
}
