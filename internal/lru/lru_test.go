package lru

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[string, int](2, 0, nil)
	c.Add("a", 1)
	c.Add("b", 2)
	_, ok := c.Get("a") // a is now the most recently used
	require.True(t, ok)
	c.Add("c", 3)

	_, ok = c.Get("b")
	assert.False(t, ok, "b was the least recently used")
	v, ok := c.Get("a")
	assert.True(t, ok)
	assert.Equal(t, 1, v)
	assert.Equal(t, 2, c.Len())
}

func TestCacheBoundsCost(t *testing.T) {
	size := func(s string) int64 { return int64(len(s)) }
	tests := []struct {
		name     string
		adds     []string
		wantKeys []string
		wantCost int64
	}{
		{"under the bound", []string{"aa", "bb"}, []string{"aa", "bb"}, 4},
		{"evicts the oldest", []string{"aaaa", "bbbb", "cc"}, []string{"bbbb", "cc"}, 6},
		{"refuses a value over the bound", []string{"aa", "xxxxxxxxxxxx"}, []string{"aa"}, 2},
		{"replacing updates the cost", []string{"aa", "aa"}, []string{"aa"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New[string, string](0, 8, size)
			for _, s := range tt.adds {
				c.Add(s, s)
			}
			for _, k := range tt.wantKeys {
				_, ok := c.Get(k)
				assert.True(t, ok, k)
			}
			assert.Equal(t, len(tt.wantKeys), c.Len())
			assert.Equal(t, tt.wantCost, c.Cost())
		})
	}
}

func TestCacheRemove(t *testing.T) {
	c := New[int, int](0, 0, nil)
	c.Add(1, 1)
	c.Remove(1)
	c.Remove(2)
	_, ok := c.Get(1)
	assert.False(t, ok)
	assert.Zero(t, c.Len())
}

func TestCacheConcurrent(t *testing.T) {
	c := New[string, int](50, 0, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := fmt.Sprint((g*31 + i) % 80)
				c.Add(k, i)
				c.Get(k)
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, c.Len(), 50)
}
