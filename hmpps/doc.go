// Package hmpps is a multimodal personalized product search library: give it
// a product catalog (text, images, optional vectors) and, for each search, a
// user's purchase history and a query; it returns candidates reranked by how
// likely this user is to buy them for this query.
//
// It implements HMPPS (Zhang et al., 2025, "Harnessing Multimodal LLMs for
// Personalized Product Search"): stage one keeps only the history items
// relevant to the query, a summarizer rewrites long product text around what
// the query cares about, and a reranker judges each candidate against the kept
// history. The Engine wires the stages; the algorithms live in the retrieval,
// summarize and rerank packages, each behind a small interface.
//
// Train learns both stages from purchases (the paper's two-stage training):
// an attention over the history that decides what stage one keeps, and a
// ranker over lexical, vector, category, popularity and history features.
// WithModel loads the result, Engine.Save keeps it in the engine file, and
// Model.WriteTo and ReadModel store it on its own.
//
// With no options, New runs fully in-process: a lexical hashing embedder, a
// colour-layout image embedder, the embedded vector index beside a BM25F
// lexical index (candidates come from both, fused by reciprocal rank), the
// extractive summarizer and the preference reranker. No server, no network.
package hmpps
