package rerank

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
)

func alts(pairs ...any) api.Logprob {
	var lp api.Logprob
	for i := 0; i < len(pairs); i += 2 {
		lp.TopLogprobs = append(lp.TopLogprobs, api.TokenLogprob{Token: pairs[i].(string), Logprob: pairs[i+1].(float64)})
	}
	return lp
}

func TestScoreFromLogprobs(t *testing.T) {
	ln := math.Log
	tests := []struct {
		name   string
		lps    []api.Logprob
		want   float64
		wantOK bool
	}{
		{"plain", []api.Logprob{alts("Yes", ln(0.6), "No", ln(0.2))}, 0.75, true},
		{"variants summed", []api.Logprob{alts("Yes", ln(0.3), " yes", ln(0.2), "YES", ln(0.1), "No", ln(0.1), " no", ln(0.1), "▁NO", ln(0.05), "ĠYes", ln(0.05))}, 0.65 / 0.9, true},
		{"punctuation and markdown", []api.Logprob{alts("**Yes", ln(0.5), "No.", ln(0.5))}, 0.5, true},
		{"only yes seen", []api.Logprob{alts("Yes", ln(0.9), "The", ln(0.05))}, 1, true},
		{"only no seen", []api.Logprob{alts("no", ln(0.4))}, 0, true},
		{"neither", []api.Logprob{alts("The", ln(0.5), "Maybe", ln(0.3))}, 0, false},
		{"no positions", nil, 0, false},
		{"no alternatives", []api.Logprob{{TokenLogprob: api.TokenLogprob{Token: "Yes", Logprob: -0.1}}}, 0, false},
		{"second position decides", []api.Logprob{alts(" ", ln(0.9)), alts("yes", ln(0.2), "no", ln(0.6))}, 0.25, true},
		{"words that contain yes are not yes", []api.Logprob{alts("yesterday", ln(0.5), "Nobody", ln(0.4), "no", ln(0.1))}, 0, true},
		{"NaN ignored", []api.Logprob{alts("Yes", math.NaN(), "No", ln(0.5))}, 0, true},
		{"positive logprob ignored", []api.Logprob{alts("Yes", 3.0, "No", ln(0.5))}, 0, true},
		{"rounding above zero tolerated", []api.Logprob{alts("Yes", 1e-9, "No", ln(0.5))}, 1 / 1.5, true},
		{"all minus infinity", []api.Logprob{alts("Yes", math.Inf(-1), "No", math.Inf(-1))}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := scoreFromLogprobs(tt.lps)
			assert.Equal(t, tt.wantOK, ok)
			assert.InDelta(t, tt.want, got, 1e-9)
		})
	}
}

func TestScoreFromText(t *testing.T) {
	tests := []struct {
		in     string
		want   float64
		wantOK bool
	}{
		{"Yes", 1, true},
		{" yes.", 1, true},
		{"**YES**", 1, true},
		{"No", 0, true},
		{"no, because", 0, true},
		{"Nope", 0, false},
		{"Maybe", 0, false},
		{"", 0, false},
		{"1. yes", 1, true},
		{"Yesterday", 0, false},
		{"<think>", 0, false},
	}
	for _, tt := range tests {
		got, ok := scoreFromText(tt.in)
		assert.Equal(t, tt.wantOK, ok, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

// FuzzScoreFromLogprobs feeds arbitrary tokens and log-probabilities: the
// parser must never panic and, when it answers, answer a probability.
func FuzzScoreFromLogprobs(f *testing.F) {
	seed := func(vals ...float64) []byte {
		b := make([]byte, 8*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		return b
	}
	f.Add("Yes|No| yes|The", seed(-0.1, -2, -3, -4))
	f.Add("▁YES|ĠNo", seed(math.NaN(), math.Inf(-1)))
	f.Add("no", seed(0))
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, tokens string, logprobs []byte) {
		var lp api.Logprob
		toks := splitBar(tokens)
		for i, tok := range toks {
			v := -1.0
			if 8*i+8 <= len(logprobs) {
				v = math.Float64frombits(binary.LittleEndian.Uint64(logprobs[8*i:]))
			}
			lp.TopLogprobs = append(lp.TopLogprobs, api.TokenLogprob{Token: tok, Logprob: v})
		}
		s, ok := scoreFromLogprobs([]api.Logprob{lp})
		if ok && (math.IsNaN(s) || s < 0 || s > 1) {
			t.Fatalf("score %v outside [0, 1]", s)
		}
		if !ok && s != 0 {
			t.Fatalf("no answer but score %v", s)
		}
	})
}

// FuzzScoreFromText: any generated text gives 0, 1 or no answer.
func FuzzScoreFromText(f *testing.F) {
	for _, s := range []string{"Yes", "no.", "**No**", "", "\x00yes", "ñó"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := scoreFromText(s)
		if (ok && v != 0 && v != 1) || (!ok && v != 0) {
			t.Fatalf("scoreFromText(%q) = %v, %v", s, v, ok)
		}
	})
}

func splitBar(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
