package summarize_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ollama/ollama/api"

	"hmpps/internal/ollamatest"
	"hmpps/summarize"
)

func ExamplePerspective() {
	// A stand-in for Ollama with scripted answers: the perspectives of the
	// query (the request with a JSON schema in Format), then the summary.
	srv := ollamatest.Start(ollamatest.Config{Chat: ollamatest.Text(func(req *api.ChatRequest) string {
		if req.Format != nil {
			return `{"perspectives": ["waterproofing", "sole grip", "ankle support"]}`
		}
		return "A mid hiking boot with a waterproof membrane and a Vibram sole for wet rock."
	})})
	defer srv.Close()

	p, err := summarize.NewPerspective(summarize.PerspectiveConfig{Client: srv.APIClient(), Model: "qwen2.5vl:7b"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	doc := summarize.Document{
		ID:    "B07RIDGE",
		Title: "Ridge Mid hiking boot",
		Text:  "<p>The Ridge is our lightest trail boot.</p><ul><li>Waterproof membrane</li><li>Vibram sole grips wet rock</li></ul>",
	}
	views, _, err := p.Perspectives(ctx, "waterproof hiking boots")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(views)
	for range 2 {
		s, err := p.Summarize(ctx, "waterproof hiking boots", doc, 20)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s (model calls %d, cache hits %d)\n", s.Text, s.Usage.ModelCalls, s.Usage.CacheHits)
	}
	// Output:
	// [waterproofing sole grip ankle support]
	// A mid hiking boot with a waterproof membrane and a Vibram sole for wet rock. (model calls 1, cache hits 1)
	// A mid hiking boot with a waterproof membrane and a Vibram sole for wet rock. (model calls 0, cache hits 2)
}
