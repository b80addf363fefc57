// Package retrieval holds everything about vectors in hmpps: the Embedder
// interfaces and their offline implementations (a lexical hashing embedder and
// a colour-layout image embedder), multimodal fusion of text and image vectors,
// the Index interface with its embedded, file-backed implementation, and the
// stage-one HistoryFilter that keeps only the history items relevant to a query.
// The Milvus implementation of Index is package retrieval/milvus, apart so
// that only programs that use it link the Milvus client; an IndexFactory
// lets the code that stores vectors (an hmpps.Engine) size either kind.
//
// Vectors are []float32. Every public boundary validates them (length, NaN,
// Inf) before they reach the SIMD kernels of github.com/viterin/vek, which
// panic on empty or unequal-length input. Those kernels are used only in the
// scans (of the index and of a user's history); arithmetic done once per
// vector, normalization above all (Normalize), is scalar float64 with one
// rounding to float32, so that stored vectors are the same on every machine.
// Equal scores are ordered deterministically: by ascending ID in an Index,
// by position in a HistoryFilter's history.
package retrieval
