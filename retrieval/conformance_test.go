package retrieval_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"hmpps/internal/indextest"
	"hmpps/retrieval"
)

// TestEmbeddedConformance holds the embedded index to the conformance suite
// that the Milvus index passes too (see package retrieval/milvus).
func TestEmbeddedConformance(t *testing.T) {
	indextest.Run(t, func(t *testing.T, dim int, metric retrieval.Metric) retrieval.Index {
		e, err := retrieval.NewEmbedded(dim, metric)
		require.NoError(t, err)
		t.Cleanup(func() { _ = e.Close() })
		return e
	}, indextest.Conformance{Exact: true, Metrics: []retrieval.Metric{retrieval.Cosine, retrieval.InnerProduct}})
}

// TestEmbeddedQuantizedConformance holds the quantized embedded index to
// the suite, as an approximate implementation.
func TestEmbeddedQuantizedConformance(t *testing.T) {
	indextest.Run(t, func(t *testing.T, dim int, metric retrieval.Metric) retrieval.Index {
		e, err := retrieval.NewEmbeddedWith(dim, metric, retrieval.EmbeddedOptions{Quantize: true})
		require.NoError(t, err)
		t.Cleanup(func() { _ = e.Close() })
		return e
	}, indextest.Conformance{MinRecall: 0.99, Metrics: []retrieval.Metric{retrieval.Cosine, retrieval.InnerProduct}})
}
