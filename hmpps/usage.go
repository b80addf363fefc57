package hmpps

import (
	"sync"

	"hmpps/retrieval"
)

// UsageReport is the model work an engine has done since New or Open, split
// by what it was for, so that a service can export it as counters and tell
// the cost of keeping the catalog from the cost of serving searches.
// Offline stages make no model calls; their work is not counted.
type UsageReport struct {
	// Index is the work of indexing: at Upsert and Add, the captions
	// (OllamaConfig.Captions) and the text embeddings of an embedder that
	// reports its work (retrieval.UsageEmbedder, such as the Ollama
	// embedder), failed batches included; and the one call New makes to
	// learn the embedding model's dimension when OllamaConfig.EmbedDimension
	// is zero.
	Index retrieval.Usage
	// Search is the work of Search: the sum of every Response.Usage (query
	// and ad-hoc history embeddings, summaries, perspectives, reranking),
	// failed searches included.
	Search retrieval.Usage
}

// Usage returns the engine's model work so far. It is safe to call at any
// time, concurrently with anything else; ExportTraining's and Train's model calls
// (query and ad-hoc history embeddings) are not counted.
func (e *Engine) Usage() UsageReport {
	e.usage.mu.Lock()
	defer e.usage.mu.Unlock()
	return e.usage.report
}

// usageMeter adds up an engine's UsageReport; writes and searches run
// concurrently, hence the lock.
type usageMeter struct {
	mu     sync.Mutex
	report UsageReport
}

func (m *usageMeter) addIndex(u retrieval.Usage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.report.Index = m.report.Index.Add(u)
}

func (m *usageMeter) addSearch(u retrieval.Usage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.report.Search = m.report.Search.Add(u)
}
