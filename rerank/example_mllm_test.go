package rerank_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/ollama/ollama/api"

	"hmpps/internal/ollamatest"
	"hmpps/rerank"
)

func ExampleMLLM() {
	// A stand-in for Ollama whose "model" says yes with probability 0.8 to
	// leather candidates and 0.3 to the others. Point Client at a real
	// server (ollamacall builds one from OLLAMA_HOST) for real judgements.
	srv := ollamatest.Start(ollamatest.Config{Chat: ollamatest.YesNo(func(req *api.ChatRequest) float64 {
		candidate := req.Messages[len(req.Messages)-1].Content
		if strings.Contains(candidate, "leather") {
			return 0.8
		}
		return 0.3
	})})
	defer srv.Close()

	m := rerank.MLLM{Client: srv.APIClient(), Model: "qwen2.5vl:7b"}
	res, err := m.Rerank(context.Background(), rerank.Request{
		Query:   "waterproof boots",
		History: []rerank.Item{{ID: "belt-2", Text: "Brown leather belt."}},
		Candidates: []rerank.Item{
			{ID: "boot-trail", Text: "Mesh trail boots with a waterproof membrane."},
			{ID: "boot-leather", Text: "Waxed leather boots, waterproof."},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range res.Scores {
		fmt.Printf("%-12s P(yes) %.2f\n", s.ID, s.Score)
	}
	fmt.Printf("%d model calls, %d generated tokens\n", res.Usage.ModelCalls, res.Usage.GeneratedTokens)
	// Output:
	// boot-trail   P(yes) 0.30
	// boot-leather P(yes) 0.80
	// 2 model calls, 2 generated tokens
}
