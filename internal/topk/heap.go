package topk

// SiftUp and SiftDown keep items a binary min-heap under worse: the root is
// the item that ranks lowest. The bounded top-k selections of the vector
// scans (topK) and of the lexical search (lexTopK) share them; each brings
// its own order.

// Push inserts c into the heap items of at most k items and returns
// it: appended while there is room, else in place of the root, which the
// caller has found ranks below c.
func Push[T any](items []T, k int, c T, worse func(a, b T) bool) []T {
	if len(items) < k {
		items = append(items, c)
		SiftUp(items, len(items)-1, worse)
		return items
	}
	items[0] = c
	SiftDown(items, 0, worse)
	return items
}

// SiftUp moves items[i] towards the root until its parent ranks below it.
func SiftUp[T any](items []T, i int, worse func(a, b T) bool) {
	for i > 0 {
		parent := (i - 1) / 2
		if !worse(items[i], items[parent]) {
			return
		}
		items[i], items[parent] = items[parent], items[i]
		i = parent
	}
}

// SiftDown moves items[i] away from the root until no child ranks below it.
func SiftDown[T any](items []T, i int, worse func(a, b T) bool) {
	n := len(items)
	for {
		low := i
		if l := 2*i + 1; l < n && worse(items[l], items[low]) {
			low = l
		}
		if r := 2*i + 2; r < n && worse(items[r], items[low]) {
			low = r
		}
		if low == i {
			return
		}
		items[i], items[low] = items[low], items[i]
		i = low
	}
}
