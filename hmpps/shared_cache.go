package hmpps

import "slices"

// The cache of an engine on a shared catalog, and how its fills by reads
// are ordered with its updates by writes (see sharedState.cacheMu).

// loggedUpdates is how many of the cache's last updates it keeps the IDs
// of; a read that more overtook fills none of the cache.
const loggedUpdates = 16

// cacheVersion returns the count of the cache's updates so far, for fill.
func (s *sharedState) cacheVersion() uint64 {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	return s.version
}

// fill caches products[i] under ids[i], read from the store after
// cacheVersion returned version, but none that an update since then
// dropped or replaced: the read may hold what that write replaced.
func (s *sharedState) fill(version uint64, ids []string, products []storedProduct) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	since := s.version - version
	if since > uint64(len(s.updates)) {
		return // which products changed is no longer known
	}
	var changed map[string]bool
	if since > 0 {
		changed = make(map[string]bool)
		for _, u := range s.updates[len(s.updates)-int(since):] {
			for _, id := range u {
				changed[id] = true
			}
		}
	}
	for i, id := range ids {
		if !changed[id] {
			s.cache.Add(id, products[i])
		}
	}
}

// updated records an update of ids; the caller holds cacheMu.
func (s *sharedState) updated(ids []string) {
	s.version++
	if len(s.updates) == loggedUpdates {
		s.updates = slices.Delete(s.updates, 0, 1)
	}
	s.updates = append(s.updates, slices.Clone(ids))
}

// forget drops ids from the cache, written or deleted since they were
// read.
func (s *sharedState) forget(ids []string) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	s.updated(ids)
	for _, id := range ids {
		s.cache.Remove(id)
	}
}

// replace caches products[i], just written, under ids[i].
func (s *sharedState) replace(ids []string, products []storedProduct) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	s.updated(ids)
	for i, id := range ids {
		s.cache.Add(id, products[i])
	}
}
