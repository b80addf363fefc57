package retrieval

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// helperPool is a fixed set of parked goroutines that take part in scans
// while they are idle. Lending one is a send on an unbuffered channel,
// which succeeds only when a helper is waiting on it, so a search never
// queues behind another one's helpers and never allocates: the goroutines
// are started once, not per query as vek32.MatMul_Into's are.
//
// A scan borrows helpers only for the CPUs that no other scan of the index
// is using: under concurrent searches, which already fill the CPUs, each
// scans alone, and a helper would only add switches between goroutines.
//
// The pool holds no reference to its index, so that an index dropped
// without Close can still be collected, which stops the pool (see
// Embedded.helperPool).
type helperPool struct {
	// size is the number of helpers.
	size int
	// scanning counts the scans in progress that may borrow helpers.
	scanning atomic.Int32
	tasks    chan helperTask
	quit     chan struct{}
	once     sync.Once
}

// helperTask asks a helper to run one part of a scan.
type helperTask struct {
	job  *scanJob
	part int
}

func newHelperPool(size int) *helperPool {
	p := &helperPool{size: size, tasks: make(chan helperTask), quit: make(chan struct{})}
	for range size {
		go p.work()
	}
	return p
}

func (p *helperPool) work() {
	for {
		select {
		case t := <-p.tasks:
			t.job.run(t.part)
			t.job.helping.Done()
		case <-p.quit:
			return
		}
	}
}

// lend gives j to idle helpers, numbering their parts from 1, and returns
// how many took it: as many as are idle, up to one per CPU that other
// scans leave free. j.parts must already hold 1+p.size parts, and the
// caller must count itself in scanning for as long as the scan lasts.
func (p *helperPool) lend(j *scanJob) int {
	want := min(p.size, p.size+1-int(p.scanning.Load()))
	n := 0
	for n < want {
		j.helping.Add(1)
		select {
		case p.tasks <- helperTask{job: j, part: n + 1}:
			n++
		default:
			j.helping.Done()
			return n
		}
	}
	return n
}

// stop ends the helpers; it is safe to call more than once.
func (p *helperPool) stop() {
	p.once.Do(func() { close(p.quit) })
}

// helperPool returns the index's helpers, starting them on first use, or
// nil when Parallelism (or GOMAXPROCS) leaves no room for any. Close stops
// them; so does the garbage collector, should the index be dropped without
// Close.
func (e *Embedded) helperPool() *helperPool {
	e.helpersOnce.Do(func() {
		size := e.opts.Parallelism
		if size == 0 {
			size = runtime.GOMAXPROCS(0)
		}
		if size <= 1 {
			return
		}
		e.helpers = newHelperPool(size - 1)
		runtime.AddCleanup(e, (*helperPool).stop, e.helpers)
	})
	return e.helpers
}
