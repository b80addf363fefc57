// Package lexical is the engine's lexical relevance signal: an in-memory
// BM25F index over a product's title, brand, category path and body, kept
// current by Upsert and Delete, whose statistics encode to bytes so that an
// engine file restores it without tokenizing the catalog again. Its words
// are the hashing embedder's and the extractive summarizer's (package
// internal/tokenize), so the three agree on what a word is.
package lexical
