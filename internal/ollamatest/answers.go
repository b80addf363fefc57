package ollamatest

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"hmpps/internal/promptsize"

	"github.com/ollama/ollama/api"
)

// Judge returns the probability that the "model" answers yes to a request.
type Judge func(req *api.ChatRequest) float64

// YesNo answers like a model asked for one token with log-probabilities:
// the content is "Yes" when judge says p >= 0.5 and "No" otherwise, and,
// when the request asks for logprobs, the first token's top alternatives
// split p over "Yes", "yes" and " Yes", 1-p over "No", "no" and " NO", and
// leave a tenth of the mass to unrelated tokens, so P(yes)/(P(yes)+P(no)) is
// exactly p but only when every variant is summed. At most the requested
// number of alternatives is returned, most likely first. Prompt and
// generated token counts are reported as PromptTokens and 1.
func YesNo(judge Judge) ChatFunc {
	return func(ctx context.Context, req *api.ChatRequest) (api.ChatResponse, error) {
		p := min(max(judge(req), 0), 1)
		content := "Yes"
		if p < 0.5 {
			content = "No"
		}
		resp := api.ChatResponse{
			Message:    api.Message{Role: "assistant", Content: content},
			DoneReason: "length",
			Metrics:    api.Metrics{PromptEvalCount: PromptTokens(req), EvalCount: 1},
		}
		if req.Logprobs {
			resp.Logprobs = []api.Logprob{YesNoLogprob(p, content, req.TopLogprobs)}
		}
		return resp, nil
	}
}

// YesNoLogprob returns the log-probabilities of a first token chosen as
// YesNo describes.
func YesNoLogprob(p float64, chosen string, top int) api.Logprob {
	const other = 0.1
	mass := []api.TokenLogprob{
		{Token: "Yes", Logprob: 0.6 * p * (1 - other)},
		{Token: "yes", Logprob: 0.3 * p * (1 - other)},
		{Token: " Yes", Logprob: 0.1 * p * (1 - other)},
		{Token: "No", Logprob: 0.6 * (1 - p) * (1 - other)},
		{Token: "no", Logprob: 0.3 * (1 - p) * (1 - other)},
		{Token: " NO", Logprob: 0.1 * (1 - p) * (1 - other)},
		{Token: "The", Logprob: 0.06},
		{Token: "Based", Logprob: 0.04},
	}
	// Tokens of probability 0 have no finite log and are not sampled.
	mass = slices.DeleteFunc(mass, func(t api.TokenLogprob) bool { return t.Logprob <= 0 })
	slices.SortStableFunc(mass, func(a, b api.TokenLogprob) int {
		switch {
		case a.Logprob > b.Logprob:
			return -1
		case a.Logprob < b.Logprob:
			return 1
		}
		return 0
	})
	chosenLP := math.Inf(-1)
	for i := range mass {
		if mass[i].Token == chosen {
			chosenLP = math.Log(mass[i].Logprob)
		}
		mass[i].Logprob = math.Log(mass[i].Logprob)
		mass[i].Bytes = tokenBytes(mass[i].Token)
	}
	if math.IsInf(chosenLP, 0) {
		chosenLP = mass[0].Logprob
	}
	lp := api.Logprob{TokenLogprob: api.TokenLogprob{Token: chosen, Logprob: chosenLP, Bytes: tokenBytes(chosen)}}
	if top > 0 {
		lp.TopLogprobs = mass[:min(top, len(mass))]
	}
	return lp
}

func tokenBytes(s string) []int {
	out := make([]int, len(s))
	for i := range len(s) {
		out[i] = int(s[i])
	}
	return out
}

// Text answers every chat request with the text answer returns, as a model
// that generated it would, with token counts estimated by PromptTokens and
// one token per four characters of the answer.
func Text(answer func(req *api.ChatRequest) string) ChatFunc {
	return func(ctx context.Context, req *api.ChatRequest) (api.ChatResponse, error) {
		s := answer(req)
		return api.ChatResponse{
			Message:    api.Message{Role: "assistant", Content: s},
			DoneReason: "stop",
			Metrics:    api.Metrics{PromptEvalCount: PromptTokens(req), EvalCount: max(1, utf8.RuneCountInString(s)/4)},
		}, nil
	}
}

// Prompt returns the text of a chat request's messages, joined by blank
// lines in order.
func Prompt(req *api.ChatRequest) string {
	parts := make([]string, len(req.Messages))
	for i, m := range req.Messages {
		parts[i] = m.Content
	}
	return strings.Join(parts, "\n\n")
}

// Images returns a chat request's images in message order.
func Images(req *api.ChatRequest) [][]byte {
	var out [][]byte
	for _, m := range req.Messages {
		for _, im := range m.Images {
			out = append(out, im)
		}
	}
	return out
}

// ImageTokens is what PromptTokens counts per image: the 256 tokens of a
// 448-pixel picture in Qwen2.5-VL.
const ImageTokens = 256

// PromptTokens is the fake server's stand-in for prompt_eval_count: the
// messages' tokens as the library estimates them (promptsize.Tokens) plus
// ImageTokens per image.
func PromptTokens(req *api.ChatRequest) int {
	return promptsize.Tokens(Prompt(req)) + ImageTokens*len(Images(req))
}

// EmbedInputs returns the texts of an embed request, whose input is one
// string or a list of them.
func EmbedInputs(req *api.EmbedRequest) ([]string, error) {
	switch in := req.Input.(type) {
	case string:
		return []string{in}, nil
	case []any:
		out := make([]string, len(in))
		for i, v := range in {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("input %d is %T, not a string", i, v)
			}
			out[i] = s
		}
		return out, nil
	default:
		return nil, fmt.Errorf("input is %T, not a string or a list", req.Input)
	}
}

// HashEmbed answers embed requests with deterministic unit vectors of dim
// components derived from each input's words, so that texts sharing words
// have a positive cosine. It is a lexical fake, not a model.
func HashEmbed(dim int) EmbedFunc {
	return func(ctx context.Context, req *api.EmbedRequest) (api.EmbedResponse, error) {
		texts, err := EmbedInputs(req)
		if err != nil {
			return api.EmbedResponse{}, &Error{Status: 400, Message: err.Error()}
		}
		resp := api.EmbedResponse{Embeddings: make([][]float32, len(texts))}
		for i, s := range texts {
			v := make([]float32, dim)
			for _, w := range strings.Fields(strings.ToLower(s)) {
				h := fnv.New32a()
				h.Write([]byte(w))
				v[h.Sum32()%uint32(dim)]++
			}
			var n float64
			for _, x := range v {
				n += float64(x) * float64(x)
			}
			if n == 0 {
				v[0], n = 1, 1
			}
			for j := range v {
				v[j] /= float32(math.Sqrt(n))
			}
			resp.Embeddings[i] = v
			resp.PromptEvalCount += len(strings.Fields(s))
		}
		return resp, nil
	}
}

// TooLongMessage is the real server's answer (HTTP 400) to an embed request
// holding a text longer than the model's context that its own truncation
// did not bring within it.
const TooLongMessage = "the input length exceeds the context length"

// RefuseLong wraps next so that a request holding a text of more than
// maxWords words fails whole with HTTP 400 TooLongMessage, as a request with
// one such text fails on the real server.
func RefuseLong(maxWords int, next EmbedFunc) EmbedFunc {
	return func(ctx context.Context, req *api.EmbedRequest) (api.EmbedResponse, error) {
		texts, err := EmbedInputs(req)
		if err != nil {
			return api.EmbedResponse{}, &Error{Status: 400, Message: err.Error()}
		}
		for _, s := range texts {
			if len(strings.Fields(s)) > maxWords {
				return api.EmbedResponse{}, &Error{Status: 400, Message: TooLongMessage}
			}
		}
		return next(ctx, req)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// YesNoCompletion answers a completion (/api/generate) request the way a
// base model answers a few-shot prompt ending in "Relevant:": the next
// token is " yes" when judge says p >= 0.5 and " no" otherwise, and, when
// the request asks for logprobs, the top alternatives split p over " yes",
// "yes" and " Yes", 1-p over " no", "no" and " No" (the spellings a real
// Gemma 3 server returned), leaving a tenth of the mass to other tokens.
// Prompt tokens are reported as a quarter of the prompt's characters plus
// ImageTokens per image.
func YesNoCompletion(judge func(prompt string) float64) GenerateFunc {
	return func(ctx context.Context, req *api.GenerateRequest) (api.GenerateResponse, error) {
		p := min(max(judge(req.Prompt), 0), 1)
		chosen := " yes"
		if p < 0.5 {
			chosen = " no"
		}
		resp := api.GenerateResponse{
			Response:   chosen,
			DoneReason: "length",
			Metrics: api.Metrics{EvalCount: 1,
				PromptEvalCount: (utf8.RuneCountInString(req.Prompt)+3)/4 + ImageTokens*len(req.Images)},
		}
		if req.Logprobs {
			base := "Yes"
			if p < 0.5 {
				base = "No"
			}
			lp := YesNoLogprob(p, base, req.TopLogprobs)
			lp.Token, lp.Bytes = chosen, tokenBytes(chosen)
			for i := range lp.TopLogprobs {
				t := completionSpelling[lp.TopLogprobs[i].Token]
				lp.TopLogprobs[i].Token, lp.TopLogprobs[i].Bytes = t, tokenBytes(t)
			}
			resp.Logprobs = []api.Logprob{lp}
		}
		return resp, nil
	}
}

// completionSpelling maps YesNoLogprob's tokens to those of a completion.
var completionSpelling = map[string]string{
	"Yes": " yes", "yes": "yes", " Yes": " Yes",
	"No": " no", "no": "no", " NO": " No",
	"The": " The", "Based": " Based",
}
