package retrieval

import "context"

// Embedder turns texts into vectors of one fixed dimension. Implementations
// return exactly one vector per input text, in order, and must be safe for
// concurrent use.
type Embedder interface {
	// Embed returns one vector per text.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Dimension reports the length of every vector Embed returns.
	Dimension() int
}

// EmbedderFunc adapts a function and a fixed dimension to the Embedder
// interface, so that a caller can plug in a closure without declaring a type.
type EmbedderFunc struct {
	// Dim is the dimension the function's vectors have.
	Dim int
	// Func computes the vectors.
	Func func(ctx context.Context, texts []string) ([][]float32, error)
}

// Embed calls f.Func.
func (f EmbedderFunc) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return f.Func(ctx, texts)
}

// Dimension returns f.Dim.
func (f EmbedderFunc) Dimension() int { return f.Dim }

// ImageEmbedder turns one encoded image (JPEG, PNG, GIF or WebP bytes) into a vector
// of a fixed dimension. Implementations must be safe for concurrent use and
// return an error, never panic, on corrupt bytes.
type ImageEmbedder interface {
	// EmbedImage returns the image's vector.
	EmbedImage(ctx context.Context, data []byte) ([]float32, error)
	// Dimension reports the length of every vector EmbedImage returns.
	Dimension() int
}

// ImageEmbedderFunc adapts a function and a fixed dimension to the
// ImageEmbedder interface.
type ImageEmbedderFunc struct {
	// Dim is the dimension the function's vectors have.
	Dim int
	// Func computes the vector.
	Func func(ctx context.Context, data []byte) ([]float32, error)
}

// EmbedImage calls f.Func.
func (f ImageEmbedderFunc) EmbedImage(ctx context.Context, data []byte) ([]float32, error) {
	return f.Func(ctx, data)
}

// Dimension returns f.Dim.
func (f ImageEmbedderFunc) Dimension() int { return f.Dim }
