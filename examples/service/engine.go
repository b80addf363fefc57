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
	opts := []hmpps.Option{hmpps.WithLogger(log), hmpps.WithLimits(c.Limits)}
	if o, ok := ollamaOption(c.Ollama); ok {
		opts = append(opts, o)
	}
	// New and Open close an index they made when they fail, so a failed
	// start leaves nothing to release.
	cat := &catalog{path: c.Catalog}
	if c.Milvus.Addr != "" {
		m := newMilvusIndex(c)
		opts = append(opts, hmpps.WithIndexFactory(m.factory()))
		if !c.Milvus.Catalog {
			cat.dropIndex = m.drop
		}
	}

	if c.Catalog != "" {
		_, err := os.Stat(c.Catalog)
		switch {
		case err == nil:
			eng, err := hmpps.Open(ctx, c.Catalog, opts...)
			if err != nil {
				return nil, err
			}
			cat.eng = eng
			log.Info("catalog opened", "file", c.Catalog, "products", eng.Len())
			return cat, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("catalog file: %w", err)
		}
	}
	eng, err := hmpps.New(opts...)
	if err != nil {
		return nil, err
	}
	cat.eng = eng
	// A shared catalog another replica filled is served as it is.
	if c.Demo && eng.Len() == 0 {
		if err := eng.Upsert(ctx, democatalog.Products()...); err != nil {
			eng.Close() // closes the index too
			return nil, fmt.Errorf("load the demo catalog: %w", err)
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
