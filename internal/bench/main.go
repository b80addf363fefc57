// Command bench compares the embedded index of hmpps with chromem-go, the
// embedded vector store a Go developer would otherwise pick, on the same
// random unit vectors of 384 dimensions: top-10 cosine queries at 1k, 10k
// and 100k documents. It prints each side's time per query, the ratio, and
// whether the two agree on the results.
//
// It is a module of its own, so that hmpps never depends on chromem-go.
// Run it from this directory with "go run ." (make bench does); for
// benchstat, "go test -bench ." runs the same comparison as benchmarks.
//
// Each size runs rounds of all three stores in turn and reports the median
// of the rounds, so that a machine busy with other work slows both sides of
// a ratio alike.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 5, "interleaved measurements per store and size; the median is reported")
	sizes := flag.String("sizes", "1000,10000,100000", "document counts, comma-separated")
	flag.Parse()
	testing.Init()
	ctx := context.Background()

	var ns []int
	for _, s := range splitComma(*sizes) {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < k {
			log.Fatalf("bad size %q", s)
		}
		ns = append(ns, n)
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "documents\tchromem-go\thmpps exact\tspeed-up\thmpps int8\tspeed-up\trecall@10 exact\trecall@10 int8\t")
	for _, n := range ns {
		d := newDataset(n)
		stores, err := newStores(ctx, d)
		if err != nil {
			log.Fatal(err)
		}
		times := make([][]time.Duration, len(stores))
		for range *rounds {
			for i, s := range stores {
				times[i] = append(times[i], perQuery(ctx, s.query, d.queries))
			}
		}
		med := make([]time.Duration, len(stores))
		for i := range stores {
			slices.Sort(times[i])
			med[i] = times[i][len(times[i])/2]
		}
		recall := func(i int) float64 { return agreement(ctx, stores[0].query, stores[i].query, d.queries) }
		fmt.Fprintf(w, "%d\t%v\t%v\t%.1fx\t%v\t%.1fx\t%.3f\t%.3f\t\n", n,
			round(med[0]), round(med[1]), ratio(med[0], med[1]), round(med[2]), ratio(med[0], med[2]), recall(1), recall(2))
	}
	w.Flush()
}

// perQuery benchmarks q over the queries in turn and returns its time per
// query.
func perQuery(ctx context.Context, q queryFunc, queries [][]float32) time.Duration {
	res := testing.Benchmark(func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := q(ctx, queries[i%len(queries)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	return time.Duration(res.NsPerOp())
}

// agreement returns the share of want's results that got returns too.
func agreement(ctx context.Context, want, got queryFunc, queries [][]float32) float64 {
	var found, total int
	for _, q := range queries {
		w, err := want(ctx, q)
		if err != nil {
			log.Fatal(err)
		}
		g, err := got(ctx, q)
		if err != nil {
			log.Fatal(err)
		}
		total += len(w)
		for _, id := range w {
			if slices.Contains(g, id) {
				found++
			}
		}
	}
	return float64(found) / float64(total)
}

func ratio(slow, fast time.Duration) float64 { return float64(slow) / float64(fast) }

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	default:
		return d
	}
}

func splitComma(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
