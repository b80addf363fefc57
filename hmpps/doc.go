// Package hmpps ranks a product catalog's search results for one shopper:
// by the query, and by what this shopper bought before.
//
//	engine, err := hmpps.New()                 // offline defaults: no server, no model
//	err = engine.Upsert(ctx, products...)      // the catalog: text, pictures, attributes
//	resp, err := engine.Search(ctx, hmpps.Request{Query: "boots", HistoryIDs: bought})
//	for _, r := range resp.Results { fmt.Println(r.ID, r.Score) } // best first, for this shopper
//	err = engine.Save(ctx, "catalog.hmpps")    // hmpps.Open reads it back
//
// It implements HMPPS (Zhang et al., 2025, "Harnessing Multimodal LLMs for
// Personalized Product Search"): candidates come from a vector index and a
// BM25F lexical index, fused by reciprocal rank; stage one keeps only the
// history items relevant to the query; a summarizer rewrites long product
// text around what the query cares about; and a reranker judges each
// candidate against the kept history. The Engine wires the stages; the
// algorithms live in the retrieval, summarize and rerank packages, each
// behind a small interface.
//
// With no options, New runs fully in-process: a lexical hashing embedder, a
// colour-layout image embedder, the embedded vector index beside the lexical
// index, the extractive summarizer and the preference reranker. No server,
// no network. WithOllama turns on the paper's model stages (a multimodal LLM
// judging each candidate, summaries, embeddings), served by Ollama, and
// WithIndexFactory with hmpps/retrieval/milvus keeps the vectors in Milvus,
// and with milvus.Config{Catalog: true} the whole catalog, which any number
// of engines then share (see SharedCatalog).
//
// Train learns both stages from purchases (the paper's two-stage training):
// an attention over the history that decides what stage one keeps, and a
// ranker over lexical, vector, category, popularity and history features.
// WithModel gives the result to an engine, Engine.Save keeps it in the
// engine file, and Model.WriteTo and ReadModel store it on its own.
// Engine.ExportTraining writes the reranker's own prompts, labelled, for
// fine-tuning a vision model outside Go.
package hmpps
