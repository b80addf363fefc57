// Command quickstart shows what personalized product search changes: two
// shoppers type the same query into the same catalog and get different
// rankings, because each ranking is tuned to what that shopper bought before.
//
// It builds an hmpps Engine with its offline defaults, loads a demo catalog of
// about fifty products (each with a small generated picture), and searches
// for "waterproof boots" as Alex, whose purchases are classic leather goods,
// and as Sam, who buys trail running and ultralight hiking gear. It prints
// both rankings side by side (leaving out what each already bought), then
// the purchases stage one kept as relevant to the query and the ones it set
// aside.
//
// It needs nothing else: no network, no server, no model files.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -query "leather boots" -top 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
)

const (
	defaultQuery = democatalog.DefaultQuery
	defaultTop   = 8
)

func main() {
	query := flag.String("query", defaultQuery, "what both shoppers search for")
	top := flag.Int("top", defaultTop, "how many results to show for each shopper")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *query, *top); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run loads the demo catalog into a fresh engine, searches as both shoppers
// and writes the comparison to w.
func run(ctx context.Context, w io.Writer, query string, top int) (err error) {
	if top < 1 {
		return fmt.Errorf("-top must be at least 1, got %d", top)
	}
	eng, err := hmpps.New()
	if err != nil {
		return fmt.Errorf("create engine: %w", err)
	}
	defer func() {
		if cerr := eng.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close engine: %w", cerr)
		}
	}()
	products := democatalog.Products()
	if err := eng.Upsert(ctx, products...); err != nil {
		return fmt.Errorf("load catalog: %w", err)
	}
	users := democatalog.Shoppers()
	resps, err := searchAll(ctx, eng, query, top, users)
	if err != nil {
		return err
	}
	titles := make(map[string]string, len(products))
	for _, p := range products {
		titles[p.ID] = p.Title
	}
	return report(w, query, top, len(products), users, resps, titles)
}

// searchAll runs the same query for each shopper with their history and
// returns each shopper's top results among the products they do not own yet.
func searchAll(ctx context.Context, eng *hmpps.Engine, query string, top int, users [2]democatalog.Shopper) ([2]*hmpps.Response, error) {
	var resps [2]*hmpps.Response
	for i, u := range users {
		// The catalog holds the purchases too, and they resemble the history
		// most of all: leave them out of the list.
		req := hmpps.Request{Query: query, HistoryIDs: u.HistoryIDs, TopN: top, ExcludeHistory: true}
		resp, err := eng.Search(ctx, req)
		if errors.Is(err, hmpps.ErrEmptyQuery) {
			return resps, fmt.Errorf("-query must contain at least one word, got %q", query)
		}
		if err != nil {
			return resps, fmt.Errorf("search as %s: %w", u.Name, err)
		}
		resps[i] = resp
	}
	return resps, nil
}

// Column layout: two columns of rankWidth+1+titleWidth+1+scoreWidth runes,
// gap apart, fit a 100-column terminal.
const (
	rankWidth  = 3 // "12*"
	titleWidth = 35
	scoreWidth = 6
	colWidth   = rankWidth + 1 + titleWidth + 1 + scoreWidth
	gap        = "   "
)

// report writes the two rankings side by side, then what stage one kept from
// and set aside of each history, then how much the rankings differ.
func report(w io.Writer, query string, top, catalogSize int, users [2]democatalog.Shopper, resps [2]*hmpps.Response, titles map[string]string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Query %q: top %d of a %d-product catalog for two shoppers\n", query, top, catalogSize)
	b.WriteString("(what each has already bought is left out of their list).\n\n")

	var ids [2][]string
	for i, r := range resps {
		for _, res := range r.Results {
			ids[i] = append(ids[i], res.ID)
		}
	}
	var header [2]string
	for i, u := range users {
		header[i] = u.Name + " (" + u.Taste + ")"
	}
	row(&b, header[0], header[1])
	row(&b, cell(" #", "Product", "Score"), cell(" #", "Product", "Score"))
	for i := range max(len(ids[0]), len(ids[1])) {
		var cells [2]string
		for u := range cells {
			if i >= len(resps[u].Results) {
				continue
			}
			res := resps[u].Results[i]
			mark := " "
			if !slices.Contains(ids[1-u], res.ID) {
				mark = "*"
			}
			cells[u] = cell(fmt.Sprintf("%2d%s", i+1, mark), res.Product.Title, fmt.Sprintf("%.3f", res.Score))
		}
		row(&b, cells[0], cells[1])
	}

	b.WriteString("\nStage one kept these purchases as relevant to the query (score: similarity to it):\n")
	var kept [2][]string
	for u, r := range resps {
		for _, k := range r.History {
			kept[u] = append(kept[u], cell("", k.Title, fmt.Sprintf("%.3f", k.Score)))
		}
		if len(kept[u]) == 0 {
			kept[u] = []string{cell("", "(none)", "")}
		}
	}
	rows(&b, kept)

	b.WriteString("\nand set these aside:\n")
	var aside [2][]string
	for u, r := range resps {
		for _, id := range users[u].HistoryIDs {
			if !slices.ContainsFunc(r.History, func(k hmpps.KeptItem) bool { return k.ID == id }) {
				aside[u] = append(aside[u], cell("", titles[id], ""))
			}
		}
		if len(aside[u]) == 0 {
			aside[u] = []string{cell("", "(none)", "")}
		}
	}
	rows(&b, aside)

	differ := 0
	for _, id := range ids[0] {
		if !slices.Contains(ids[1], id) {
			differ++
		}
	}
	switch {
	case differ > 0:
		fmt.Fprintf(&b, "\n%d of the top %d differ between %s and %s (marked *): same query, same catalog, different histories.\n",
			differ, len(ids[0]), users[0].Name, users[1].Name)
	case !slices.Equal(ids[0], ids[1]):
		fmt.Fprintf(&b, "\nBoth top %d hold the same products, in a different order.\n", len(ids[0]))
	default:
		fmt.Fprintf(&b, "\nBoth shoppers got the same top %d in the same order.\n", len(ids[0]))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell formats one cell: rank, title cut to its column, score.
func cell(rank, title, score string) string {
	return fmt.Sprintf("%-*s %-*s %*s", rankWidth, rank, titleWidth, truncate(title, titleWidth), scoreWidth, score)
}

// row writes two cells side by side, each cut or padded to its column.
func row(b *strings.Builder, left, right string) {
	s := fmt.Sprintf("%-*s%s%s", colWidth, truncate(left, colWidth), gap, truncate(right, colWidth))
	b.WriteString(strings.TrimRight(s, " "))
	b.WriteByte('\n')
}

// rows writes two lists of cells side by side, the shorter one padded.
func rows(b *strings.Builder, cols [2][]string) {
	for i := range max(len(cols[0]), len(cols[1])) {
		var cells [2]string
		for c := range cells {
			if i < len(cols[c]) {
				cells[c] = cols[c][i]
			}
		}
		row(b, cells[0], cells[1])
	}
}

// truncate cuts s to at most n runes, marking a cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
