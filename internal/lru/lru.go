// Package lru is a bounded, concurrency-safe least-recently-used cache. The
// model-backed stages keep prepared images, summaries and query perspectives
// in it, so that a long-running service reuses recent work without growing
// without bound.
package lru

import (
	"container/list"
	"sync"
)

// Cache maps keys to values and evicts the least recently used entries when
// either bound is exceeded. The zero value is not usable; call New.
type Cache[K comparable, V any] struct {
	maxEntries int
	maxCost    int64
	cost       func(V) int64

	mu    sync.Mutex
	ll    *list.List // front is most recently used
	items map[K]*list.Element
	total int64 // sum of the costs of the entries held
}

type entry[K comparable, V any] struct {
	key  K
	val  V
	cost int64
}

// New returns a cache that holds at most maxEntries entries and, when cost is
// not nil, entries whose costs sum to at most maxCost. A bound <= 0 is no
// bound. A value whose own cost exceeds maxCost is not stored at all.
func New[K comparable, V any](maxEntries int, maxCost int64, cost func(V) int64) *Cache[K, V] {
	return &Cache[K, V]{
		maxEntries: maxEntries,
		maxCost:    maxCost,
		cost:       cost,
		ll:         list.New(),
		items:      make(map[K]*list.Element),
	}
}

// Get returns the value stored under key and marks it most recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*entry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Add stores val under key, replacing any previous value, and evicts the
// least recently used entries until both bounds hold again.
func (c *Cache[K, V]) Add(key K, val V) {
	var cost int64
	if c.cost != nil {
		cost = c.cost(val)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
	if c.cost != nil && c.maxCost > 0 && cost > c.maxCost {
		return
	}
	c.items[key] = c.ll.PushFront(&entry[K, V]{key: key, val: val, cost: cost})
	c.total += cost
	for c.over() {
		c.removeElement(c.ll.Back())
	}
}

// Remove drops key from the cache, if present.
func (c *Cache[K, V]) Remove(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
}

// Len returns the number of entries held.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// Cost returns the sum of the costs of the entries held.
func (c *Cache[K, V]) Cost() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

func (c *Cache[K, V]) over() bool {
	if c.ll.Len() == 0 {
		return false
	}
	return (c.maxEntries > 0 && c.ll.Len() > c.maxEntries) ||
		(c.cost != nil && c.maxCost > 0 && c.total > c.maxCost)
}

func (c *Cache[K, V]) removeElement(el *list.Element) {
	e := el.Value.(*entry[K, V])
	c.ll.Remove(el)
	delete(c.items, e.key)
	c.total -= e.cost
}
