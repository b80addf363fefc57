// Command scalebench measures the engine at catalog scale: it builds the
// synthetic catalog of BenchmarkSearch (internal/benchcatalog: 384-dimension
// hashing vectors, images off) at each size asked, and prints what a shop
// would ask of it: how fast Upsert takes the catalog (batches of 1,000),
// the live heap per product after a garbage collection, the median and 99th
// percentile of single hybrid searches (50 history items, the default
// configuration), how long Save takes and how large the file is per
// product, and how long Open takes, with the heap and the peak resident
// memory of the process that opened it. Beside each time it prints the CPU
// time the phase took: on a machine shared with other work, the wall-clock
// figures depend on what else runs, the CPU ones much less.
//
// Open runs in a child process (this program, with -open), so that its peak
// resident memory is its own and the catalog built here is not in it.
//
//	go run ./internal/scalebench -sizes 100000          # make bench runs this size
//	go run ./internal/scalebench -sizes 100000,1000000  # make bench-scale
//
// The search figures are also printed as benchmark lines
// (BenchmarkScaleSearch/n=...), which benchstat reads, so that two builds
// can be compared over interleaved runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hmpps/hmpps"
	"hmpps/internal/benchcatalog"
	"hmpps/internal/procmem"
)

func main() {
	sizes := flag.String("sizes", "100000", "catalog sizes, comma-separated")
	searches := flag.Int("searches", 1000, "searches timed at each size")
	dir := flag.String("dir", "", "where to save the catalog files (default: a temporary directory, removed at the end)")
	keep := flag.Bool("keep", false, "keep the catalog files in -dir after the run, to open them again with -open")
	openPath := flag.String("open", "", "open this engine file and report (the child process's mode)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the searches to this file")
	heapProfile := flag.String("heapprofile", "", "write a heap profile of the built catalog to this file")
	upsertProfile := flag.String("upsertprofile", "", "write a CPU profile of the upserts to this file")
	openProfile := flag.String("openprofile", "", "write a CPU profile of Open to this file")
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()

	if *openPath != "" {
		if err := openChild(ctx, *openPath, *openProfile); err != nil {
			log.Fatal(err)
		}
		return
	}
	root := *dir
	if root == "" {
		tmp, err := os.MkdirTemp("", "scalebench")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		root = tmp
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < benchcatalog.HistoryLen {
			log.Fatalf("bad size %q", s)
		}
		prof := profiles{cpu: *cpuProfile, heap: *heapProfile, upsert: *upsertProfile, open: *openProfile}
		if err := run(ctx, n, *searches, root, prof, *keep && *dir != ""); err != nil {
			log.Fatal(err)
		}
	}
}

type profiles struct{ cpu, heap, upsert, open string }

// suffixed returns path with the catalog size before its extension, so
// that each size gets its own profile; "" stays "".
func suffixed(path string, n int) string {
	if path == "" {
		return ""
	}
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), n, ext)
}

func run(ctx context.Context, n, searches int, root string, prof profiles, keep bool) error {
	fmt.Printf("== %d products (GOMAXPROCS %d, load average %s)\n", n, runtime.GOMAXPROCS(0), loadAverage())
	items := benchcatalog.Catalog(n)
	products := make([]hmpps.Product, n)
	for i, p := range items {
		products[i] = hmpps.Product{ID: p.ID, Title: p.Title, Brand: p.Brand, Category: p.Category,
			Description: p.Description, Attributes: p.Attributes}
	}
	items = nil
	reqs := requests(n)

	before := liveHeap()
	e, err := hmpps.New(hmpps.WithImageEmbedder(nil))
	if err != nil {
		return err
	}
	stop, err := startCPUProfile(suffixed(prof.upsert, n))
	if err != nil {
		return err
	}
	cpu := cpuTime()
	start := time.Now()
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		if err := e.Upsert(ctx, products[lo:min(lo+batch, n)]...); err != nil {
			return err
		}
	}
	upsert := time.Since(start)
	upsertCPU := cpuTime() - cpu
	stop()
	// The products stay alive until the heap is read, as they were when
	// before was: the difference is the engine's.
	heap := liveHeap() - before
	runtime.KeepAlive(products)
	products = nil
	fmt.Printf("upsert     %8.1f s  %8.0f products/s  (%.0f µs of CPU a product)\n", upsert.Seconds(), float64(n)/upsert.Seconds(),
		float64(upsertCPU.Microseconds())/float64(n))
	fmt.Printf("heap       %8.0f bytes/product (live heap after GC; %.0f MiB)\n", float64(heap)/float64(n), float64(heap)/(1<<20))
	if p := suffixed(prof.heap, n); p != "" {
		if err := writeHeapProfile(p); err != nil {
			return err
		}
	}

	cpu = cpuTime()
	p50, p99, mean, err := timeSearches(ctx, e, reqs, searches, suffixed(prof.cpu, n))
	if err != nil {
		return err
	}
	searchCPU := (cpuTime() - cpu) / time.Duration(searches+16)
	fmt.Printf("search     p50 %.2f ms  p99 %.2f ms  mean %.2f ms  (%.2f ms of CPU a search; %d hybrid searches, %d history items)\n",
		ms(p50), ms(p99), ms(mean), ms(searchCPU), searches, benchcatalog.HistoryLen)
	fmt.Printf("BenchmarkScaleSearch/n=%d \t%d\t%d ns/op\t%d p50-ns\t%d p99-ns\n", n, searches, mean.Nanoseconds(), p50.Nanoseconds(), p99.Nanoseconds())

	path := filepath.Join(root, fmt.Sprintf("catalog-%d.hmpps", n))
	start, cpu = time.Now(), cpuTime()
	if err := e.Save(ctx, path); err != nil {
		return err
	}
	save, saveCPU := time.Since(start), cpuTime()-cpu
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("save       %8.1f s  %8.0f bytes/product in the file (%.0f MiB; %.1f s of CPU)\n", save.Seconds(), float64(st.Size())/float64(n),
		float64(st.Size())/(1<<20), saveCPU.Seconds())
	if err := e.Close(); err != nil {
		return err
	}
	e = nil
	runtime.GC()

	args := []string{"-open", path}
	if p := suffixed(prof.open, n); p != "" {
		args = append(args, "-openprofile", p)
	}
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("open in a child process: %w", err)
	}
	if keep {
		return nil
	}
	return os.Remove(path)
}

// openChild opens the engine file at path and reports the time Open took,
// the live heap after it and the process's peak resident memory; then it
// checks that the opened engine answers a search.
func openChild(ctx context.Context, path, profile string) error {
	before := liveHeap()
	stop, err := startCPUProfile(profile)
	if err != nil {
		return err
	}
	start, cpu := time.Now(), cpuTime()
	e, err := hmpps.Open(ctx, path, hmpps.WithImageEmbedder(nil))
	if err != nil {
		return err
	}
	took, tookCPU := time.Since(start), cpuTime()-cpu
	stop()
	defer e.Close()
	peak := peakRSS()
	n := e.Len()
	heap := liveHeap() - before
	fmt.Printf("open       %8.1f s  heap %.0f bytes/product, peak RSS %.0f MiB (%.0f bytes/product; %.1f s of CPU)\n",
		took.Seconds(), float64(heap)/float64(n), float64(peak)/(1<<20), float64(peak)/float64(n), tookCPU.Seconds())
	reqs := requests(n)
	resp, err := e.Search(ctx, hmpps.Request{Query: reqs[0].Query, HistoryIDs: reqs[0].HistoryIDs})
	if err != nil {
		return err
	}
	if len(resp.Results) != hmpps.DefaultTopN {
		return fmt.Errorf("the opened engine returned %d results", len(resp.Results))
	}
	return nil
}

func requests(n int) []hmpps.Request {
	rs := benchcatalog.Requests(256, n, benchcatalog.HistoryLen)
	out := make([]hmpps.Request, len(rs))
	for i, r := range rs {
		out[i] = hmpps.Request{Query: r.Query, HistoryIDs: r.HistoryIDs}
	}
	return out
}

// timeSearches runs count searches one after the other, after a few to warm
// up, and returns the median, 99th percentile and mean.
func timeSearches(ctx context.Context, e *hmpps.Engine, reqs []hmpps.Request, count int, profile string) (p50, p99, mean time.Duration, err error) {
	for _, r := range reqs[:min(16, len(reqs))] {
		if _, err := e.Search(ctx, r); err != nil {
			return 0, 0, 0, err
		}
	}
	stop, err := startCPUProfile(profile)
	if err != nil {
		return 0, 0, 0, err
	}
	defer stop()
	took := make([]time.Duration, count)
	var total time.Duration
	for i := range took {
		start := time.Now()
		resp, err := e.Search(ctx, reqs[i%len(reqs)])
		took[i] = time.Since(start)
		total += took[i]
		if err != nil {
			return 0, 0, 0, err
		}
		if len(resp.Results) != hmpps.DefaultTopN || resp.Candidates != hmpps.DefaultRetrieveK {
			return 0, 0, 0, fmt.Errorf("search %d: %d results of %d candidates", i, len(resp.Results), resp.Candidates)
		}
	}
	slices.Sort(took)
	return took[count/2], took[int(0.99*float64(count-1))], total / time.Duration(count), nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// peakRSS returns the process's peak resident memory in bytes: VmHWM from
// /proc/self/status where there is one, since getrusage's maximum carries
// over the parent's peak into a child started by fork and exec (Linux keeps
// the larger of the two across exec, and Go's fork shares the parent's
// memory until then), which would count the catalog built here.
func peakRSS() int64 {
	if peak, ok := procmem.Peak(0); ok {
		return int64(peak)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

// cpuTime returns the CPU time the process has used, user and system: on a
// machine shared with other work, what a phase costs apart from waiting.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage returns the first three fields of /proc/loadavg, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.WriteHeapProfile(f)
}
