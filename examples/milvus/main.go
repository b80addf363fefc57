// Command milvus runs the quickstart's search with its vectors in Milvus
// instead of the in-process index: the same engine, switched by one option
// (hmpps.WithIndexFactory making a milvus.Index, whose dimension and metric
// the engine derives from its embedders). It indexes the demo catalog into
// a Milvus collection, searches "waterproof boots" as the two demo shoppers,
// then once more restricted to one brand and a category subtree, a filter
// that Milvus evaluates. It drops the collection at the end unless -keep.
//
// It needs a running Milvus 2.3 or newer. Without Docker, the repository's
// script starts one from PyPI (it needs python3):
//
//	scripts/milvus.sh start .tmp/milvus/demo     # prints MILVUS_ADDR=127.0.0.1:19530
//	go run ./examples/milvus
//	go run ./examples/milvus -addr 127.0.0.1:19530 -collection demo -keep
//	scripts/milvus.sh stop .tmp/milvus/demo
//
// The server is -addr, else MILVUS_ADDR, else localhost:19530. If it cannot
// be reached within -timeout, the command says how to start one and exits
// with status 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
	"hmpps/retrieval"
	"hmpps/retrieval/milvus"
)

// config is what the flags set.
type config struct {
	Addr, Collection, Query string
	Top                     int
	Timeout                 time.Duration
	Keep                    bool
}

func main() {
	var c config
	flag.StringVar(&c.Addr, "addr", "", "Milvus server host:port (default: MILVUS_ADDR, else "+milvus.DefaultAddress+")")
	flag.StringVar(&c.Collection, "collection", "hmpps_example", "collection to index the catalog into")
	flag.StringVar(&c.Query, "query", democatalog.DefaultQuery, "what both shoppers search for")
	flag.IntVar(&c.Top, "top", 5, "how many results to show for each shopper")
	flag.DurationVar(&c.Timeout, "timeout", 10*time.Second, "how long to wait for the server to answer")
	flag.BoolVar(&c.Keep, "keep", false, "keep the collection instead of dropping it at the end")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, c); err != nil {
		fmt.Fprintln(os.Stderr, "milvus example:", err)
		os.Exit(1)
	}
}

// run indexes the demo catalog into Milvus, searches it as both shoppers
// and with a filter, and writes the results to w.
func run(ctx context.Context, w io.Writer, c config) (err error) {
	if c.Top < 1 {
		return fmt.Errorf("-top must be at least 1, got %d", c.Top)
	}
	if c.Addr == "" {
		c.Addr = os.Getenv("MILVUS_ADDR")
	}
	if c.Addr == "" {
		c.Addr = milvus.DefaultAddress
	}
	start := time.Now()
	// The engine makes its index through the factory, telling it the
	// dimension and metric of the vectors it stores (its default embedders
	// make text + colour-layout dimensions, compared by inner product).
	// milvus.Factory(cfg) alone would do; this factory also keeps the
	// index, to count and drop, and clears a run's leftovers.
	cfg := milvus.Config{Address: c.Addr, Collection: c.Collection, DialTimeout: c.Timeout}
	var ix *milvus.Index
	eng, err := hmpps.New(hmpps.WithIndexFactory(func(ctx context.Context, spec retrieval.IndexSpec) (retrieval.Index, error) {
		cfg.Dimension, cfg.Metric = spec.Dimension, spec.Metric
		m, err := milvus.New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		if err := clearDemo(ctx, m); err != nil {
			m.Close()
			return nil, err
		}
		ix = m
		return m, nil
	}))
	if errors.Is(err, milvus.ErrUnavailable) {
		return fmt.Errorf("cannot reach Milvus at %s: %v\n"+
			"Start one with `scripts/milvus.sh start .tmp/milvus/demo` (needs python3), "+
			"or point -addr (or MILVUS_ADDR) at a running server", c.Addr, err)
	}
	if err != nil {
		return fmt.Errorf("create engine on collection %q: %w", c.Collection, err)
	}
	defer func() {
		if !c.Keep {
			if derr := ix.Drop(ctx); derr != nil && err == nil {
				err = fmt.Errorf("drop collection: %w", derr)
			}
		}
		// The engine closes the index; after Drop it is closed already,
		// which Close accepts.
		if cerr := eng.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close engine: %w", cerr)
		}
	}()
	fmt.Fprintf(w, "Connected to Milvus at %s in %v; collection %q.\n", c.Addr, time.Since(start).Round(time.Millisecond), c.Collection)

	products := democatalog.Products()
	start = time.Now()
	if err := eng.Upsert(ctx, products...); err != nil {
		return fmt.Errorf("load catalog: %w", err)
	}
	n, err := ix.Len(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Indexed %d products (Milvus counts %d) in %v.\n", len(products), n, time.Since(start).Round(time.Millisecond))

	for _, u := range democatalog.Shoppers() {
		resp, err := eng.Search(ctx, hmpps.Request{Query: c.Query, HistoryIDs: u.HistoryIDs, TopN: c.Top, ExcludeHistory: true})
		if errors.Is(err, hmpps.ErrEmptyQuery) {
			return fmt.Errorf("-query must contain at least one word, got %q", c.Query)
		}
		if err != nil {
			return fmt.Errorf("search as %s: %w", u.Name, err)
		}
		report(w, fmt.Sprintf("%s (%s)", u.Name, u.Taste), resp)
	}

	filter := retrieval.Filter{
		retrieval.In("brand", "Hallam & Webb", "Thornbury"),
		retrieval.Prefix("category", "Footwear"+retrieval.CategorySeparator),
	}
	u := democatalog.Shoppers()[1]
	resp, err := eng.Search(ctx, hmpps.Request{Query: c.Query, HistoryIDs: u.HistoryIDs, TopN: c.Top, Filter: filter})
	if err != nil {
		return fmt.Errorf("filtered search: %w", err)
	}
	report(w, fmt.Sprintf("%s, only Hallam & Webb or Thornbury footwear", u.Name), resp)
	return nil
}

// clearDemo removes the demo products a run with -keep left behind, so
// that the engine starts from an empty index, and refuses a collection that
// holds anything else.
func clearDemo(ctx context.Context, ix *milvus.Index) error {
	n, err := ix.Len(ctx)
	if err != nil || n == 0 {
		return err
	}
	var ids []string
	for _, p := range democatalog.Products() {
		ids = append(ids, p.ID)
	}
	if err := ix.Delete(ctx, ids...); err != nil {
		return err
	}
	if n, err = ix.Len(ctx); err == nil && n > 0 {
		err = fmt.Errorf("collection holds %d records that are not the demo catalog's; choose another with -collection", n)
	}
	return err
}

// report writes one ranking: the final score, the retrieval score Milvus
// gave, and the product.
func report(w io.Writer, title string, resp *hmpps.Response) {
	fmt.Fprintf(w, "\n%s: %d candidates from Milvus in %v\n", title, resp.Candidates, resp.Timings.Retrieve.Round(time.Microsecond))
	for i, r := range resp.Results {
		fmt.Fprintf(w, "%2d. %.3f (retrieval %.3f)  %s — %s, %s\n", i+1, r.Score, r.RetrievalScore,
			r.Product.Title, r.Product.Brand, strings.Join(r.Product.Category, retrieval.CategorySeparator))
	}
}
