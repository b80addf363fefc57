package hmpps

import (
	"runtime"
	"sync"
)

// parallel calls work on ranges that split [0, n), on every CPU, each of at
// least minPer items, and waits for them: the per-product work of a write
// or an open, spread over the machine.
func parallel(n, minPer int, work func(lo, hi int)) {
	workers := max(1, min(runtime.GOMAXPROCS(0), n/max(1, minPer)))
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		lo, hi := w*per, min(n, (w+1)*per)
		if lo < hi {
			wg.Go(func() { work(lo, hi) })
		}
	}
	work(0, min(n, per))
	wg.Wait()
}
