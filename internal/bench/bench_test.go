package main

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkQuery is the comparison of the command as benchmarks, for
// benchstat: go test -bench . -count 6 | benchstat -col /impl -.
func BenchmarkQuery(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1_000, 10_000, 100_000} {
		d := newDataset(n)
		stores, err := newStores(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range stores {
			b.Run(fmt.Sprintf("n=%d/impl=%s", n, s.name), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := s.query(ctx, d.queries[i%len(d.queries)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}

// TestStoresAgree checks that the stores compared find the same documents,
// so that the comparison is of equal work.
func TestStoresAgree(t *testing.T) {
	ctx := context.Background()
	d := newDataset(2000)
	stores, err := newStores(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stores[1:] {
		if got := agreement(ctx, stores[0].query, s.query, d.queries); got < 0.99 {
			t.Errorf("%s finds %.3f of chromem-go's results", s.name, got)
		}
	}
}
