package imageprep

import (
	"context"
	"errors"

	"hmpps/internal/lru"
)

// DefaultCacheBytes bounds a Cache when its size is not given: about two
// thousand prepared 448-pixel JPEGs.
const DefaultCacheBytes = 64 << 20

// Cache remembers prepared images by a caller-chosen key (for the engine, the
// catalog entry of a product), so that a product's picture is fetched and
// downscaled once, not once per search. Images that cannot be prepared are
// remembered too, so a broken URL is not fetched again and again; transient
// failures (a cancelled context, a network error) are not. It is safe for
// concurrent use.
type Cache[K comparable] struct {
	p     Preparer
	cache *lru.Cache[K, result]
}

type result struct {
	data []byte
	err  error
}

// NewCache returns a cache in front of p holding at most maxBytes of
// prepared images (DefaultCacheBytes if maxBytes is 0).
func NewCache[K comparable](p Preparer, maxBytes int64) *Cache[K] {
	if maxBytes == 0 {
		maxBytes = DefaultCacheBytes
	}
	// A remembered failure costs its key and a small error: count it as
	// 256 bytes so that failures cannot fill the cache unbounded.
	cost := func(r result) int64 { return int64(len(r.data)) + 256 }
	return &Cache[K]{p: p, cache: lru.New[K, result](0, maxBytes, cost)}
}

// Prepare returns the prepared image for key, preparing src on a miss.
func (c *Cache[K]) Prepare(ctx context.Context, key K, src Source) ([]byte, error) {
	if r, ok := c.cache.Get(key); ok {
		return r.data, r.err
	}
	data, err := c.p.Prepare(ctx, src)
	if err == nil || errors.Is(err, ErrInvalidImage) || errors.Is(err, ErrRemoteImage) {
		c.cache.Add(key, result{data: data, err: err})
	}
	return data, err
}

// Len returns the number of images (and remembered failures) held.
func (c *Cache[K]) Len() int { return c.cache.Len() }
