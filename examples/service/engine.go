package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
	"hmpps/rerank"
	"hmpps/retrieval"
)

// catalog is the engine the service serves and what it must do with it at
// shutdown.
type catalog struct {
	eng *hmpps.Engine
	// path is where the catalog is saved at shutdown; blank for none.
	path string
	// dropIndex releases an external index the service owns (its Milvus
	// collection) before the engine is closed; nil for the in-process one.
	dropIndex func(context.Context) error
}

// openCatalog builds the engine c describes: opened from c.Catalog when that
// file exists, else new and, with c.Demo, loaded with the demo catalog.
func openCatalog(ctx context.Context, c config, log *slog.Logger) (*catalog, error) {
	opts := []hmpps.Option{hmpps.WithLogger(log)}
	if o, ok := ollamaOption(c.Ollama); ok {
		opts = append(opts, o)
	}
	cat := &catalog{path: c.Catalog}
	// closeIndex releases the external index when the engine that would
	// own it was not made; it leaves the collection on the server.
	closeIndex := func() error { return nil }
	if c.Milvus.Addr != "" {
		m, err := milvusIndex(ctx, c)
		if err != nil {
			return nil, err
		}
		opts = append(opts, hmpps.WithIndex(m))
		cat.dropIndex, closeIndex = m.Drop, m.Close
	}
	fail := func(err error) (*catalog, error) {
		// An engine that failed to open has closed its index already.
		if cerr := closeIndex(); cerr != nil && !errors.Is(cerr, retrieval.ErrClosed) {
			log.Warn("close the Milvus index", "err", cerr)
		}
		return nil, err
	}

	if c.Catalog != "" {
		_, err := os.Stat(c.Catalog)
		switch {
		case err == nil:
			eng, err := hmpps.Open(ctx, c.Catalog, opts...)
			if err != nil {
				return fail(err)
			}
			cat.eng = eng
			log.Info("catalog opened", "file", c.Catalog, "products", eng.Len())
			return cat, nil
		case !errors.Is(err, fs.ErrNotExist):
			return fail(fmt.Errorf("catalog file: %w", err))
		}
	}
	eng, err := hmpps.New(opts...)
	if err != nil {
		return fail(err)
	}
	cat.eng = eng
	if c.Demo {
		if err := eng.Upsert(ctx, democatalog.Products()...); err != nil {
			eng.Close() // closes the index too
			closeIndex = func() error { return nil }
			return fail(fmt.Errorf("load the demo catalog: %w", err))
		}
	}
	log.Info("catalog created", "file", c.Catalog, "demo", c.Demo, "products", eng.Len())
	return cat, nil
}

// close saves the catalog when it has a file, releases the external index,
// then closes the engine; it returns the first error and does all three.
func (cat *catalog) close(ctx context.Context, log *slog.Logger) error {
	var errs []error
	if cat.path != "" {
		if err := cat.eng.Save(ctx, cat.path); err != nil {
			errs = append(errs, err)
		} else {
			log.Info("catalog saved", "file", cat.path, "products", cat.eng.Len())
		}
	}
	if cat.dropIndex != nil {
		if err := cat.dropIndex(ctx); err != nil {
			errs = append(errs, fmt.Errorf("drop the Milvus collection: %w", err))
		}
	}
	if err := cat.eng.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ollamaOption returns hmpps.WithOllama for the settings, or false when
// they name no model and the engine stays offline.
func ollamaOption(f ollamaFlags) (hmpps.Option, bool) {
	if f.VisionModel == "" && f.SummarizerModel == "" && f.EmbedModel == "" {
		return nil, false
	}
	mode := rerank.ModeChat
	if f.Mode == "completion" {
		mode = rerank.ModeCompletion
	}
	return hmpps.WithOllama(hmpps.OllamaConfig{
		Host:             f.Host,
		VisionModel:      f.VisionModel,
		SummarizerModel:  f.SummarizerModel,
		EmbedModel:       f.EmbedModel,
		EmbedDimension:   f.EmbedDimension,
		Timeout:          f.Timeout,
		Concurrency:      f.Concurrency,
		RerankMode:       mode,
		RerankCandidates: f.RerankCandidates,
		Captions:         f.Captions,
	}), true
}
