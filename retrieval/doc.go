// Package retrieval finds products by vector: it turns text and pictures
// into vectors (the Embedder interfaces, the offline hashing and colour-layout
// embedders, the Ollama embedder), fuses a product's text and picture vectors
// into one (VectorFusion), stores and searches them (the Index interface and
// its embedded implementation, exact or int8-quantized), fuses ranked lists
// of candidates (RankFusion), and scores a shopper's history against a query
// (the stage-one HistoryFilter). The lexical index is package
// retrieval/lexical and the Milvus Index is package retrieval/milvus, apart
// so that only programs that use it link the Milvus client; an IndexFactory
// lets the code that stores vectors (an hmpps.Engine) size either kind.
//
// Vectors are []float32. Every public boundary validates them (length, NaN,
// Inf) before they reach the SIMD kernels of github.com/viterin/vek, which
// panic on empty or unequal-length input. Those kernels are used only in the
// scans (of the index and of a user's history); arithmetic done once per
// vector, normalization above all (Normalize), is scalar float64 with one
// rounding to float32, and per-item scores use Dot64's fixed order, so that
// stored vectors and reported scores are the same on every machine. Equal
// scores are ordered deterministically: by ascending ID in an Index and in
// RankFusion, by position in a HistoryFilter's history.
package retrieval
