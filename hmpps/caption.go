package hmpps

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"hmpps/internal/ollamacall"
	"hmpps/retrieval"
	"hmpps/summarize"
)

// caption returns products with a caption written for each one that has a
// picture and no caption, when captions are on, with their texts (texts are
// the products' as given); otherwise products and texts as they are. The
// caller's slices are not modified. A picture that cannot be read or
// described leaves that product without a caption (and logs why); a missing
// model or an unreachable server fails the batch, since every caption would
// fail the same way. The usage is the captions' model work, failed calls
// included.
func (e *Engine) caption(ctx context.Context, products []Product, texts []productText) ([]Product, []productText, retrieval.Usage, error) {
	var usage retrieval.Usage
	if e.cfg.ollama == nil || e.cfg.ollama.captioner == nil {
		return products, texts, usage, nil
	}
	var mu sync.Mutex // guards usage
	out := make([]Product, len(products))
	copy(out, products)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.concurrency)
	for i := range out {
		p := &out[i]
		if strings.TrimSpace(p.Caption) != "" {
			continue
		}
		src, ok := imageSource(nil, p.Images)
		if !ok {
			continue
		}
		g.Go(func() error {
			image, err := e.cfg.ollama.preparer.Prepare(gctx, src)
			if err != nil {
				if gctx.Err() == nil {
					e.cfg.logger.WarnContext(gctx, "no caption: picture not usable", "product", p.ID, "err", err)
				}
				return nil
			}
			doc := summarize.Document{ID: p.ID, Title: p.Title, Image: image}
			s, err := e.cfg.ollama.captioner.Caption(gctx, doc, e.cfg.ollama.cfg.CaptionWords)
			mu.Lock()
			usage = usage.Add(s.Usage)
			mu.Unlock()
			switch {
			case err == nil:
				p.Caption = s.Text
			case ollamacall.IsFatal(err):
				return fmt.Errorf("hmpps: caption %q: %w", p.ID, err)
			case gctx.Err() == nil:
				e.cfg.logger.WarnContext(gctx, "no caption: model failed", "product", p.ID, "err", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, usage, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, usage, err
	}
	return out, productTexts(out), usage, nil
}
