package hmpps

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"hmpps/internal/lru"
)

// A read fills the cache with what it read, but not with a product a
// write updated since the read began; a read that more updates overtook
// than the cache keeps track of fills nothing.
func TestSharedCacheFill(t *testing.T) {
	product := func(id string) storedProduct { return storedProduct{rec: record(id), vector: []float32{1}} }
	newState := func() *sharedState {
		return &sharedState{cache: lru.New[string, storedProduct](0, 0, nil)}
	}
	cached := func(s *sharedState, id string) bool {
		_, ok := s.cache.Get(id)
		return ok
	}
	tests := []struct {
		name string
		// between runs between the read's start and its fill.
		between    func(s *sharedState)
		want, gone []string
	}{
		{"no update", func(*sharedState) {}, []string{"a", "b"}, nil},
		{"a delete of one", func(s *sharedState) { s.forget([]string{"a"}) }, []string{"b"}, []string{"a"}},
		{"a write of one", func(s *sharedState) { s.replace([]string{"b"}, []storedProduct{product("b2")}) }, []string{"a"}, nil},
		{"updates of others", func(s *sharedState) {
			for i := range loggedUpdates {
				s.forget([]string{fmt.Sprint("other-", i)})
			}
		}, []string{"a", "b"}, nil},
		{"more updates than kept", func(s *sharedState) {
			for i := range loggedUpdates + 1 {
				s.forget([]string{fmt.Sprint("other-", i)})
			}
		}, nil, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newState()
			s.forget([]string{"x"}) // an update before the read counts for nothing
			v := s.cacheVersion()
			tt.between(s)
			s.fill(v, []string{"a", "b"}, []storedProduct{product("a"), product("b")})
			for _, id := range tt.want {
				got, ok := s.cache.Get(id)
				if assert.True(t, ok, "%s is cached", id) {
					assert.Equal(t, record(id), got.rec, "%s is cached as read", id)
				}
			}
			for _, id := range tt.gone {
				assert.False(t, cached(s, id), "%s is not cached", id)
			}
		})
	}
	// A write's own version stays cached over a read it overtook.
	s := newState()
	v := s.cacheVersion()
	s.replace([]string{"b"}, []storedProduct{product("b2")})
	s.fill(v, []string{"b"}, []storedProduct{product("b")})
	got, ok := s.cache.Get("b")
	assert.True(t, ok)
	assert.Equal(t, record("b2"), got.rec)
}
