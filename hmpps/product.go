package hmpps

import (
	"fmt"
	"strings"

	"hmpps/retrieval"
)

// Product is one item of the catalog.
type Product struct {
	// ID identifies the product; it must be non-empty and unique.
	ID string
	// Title is the product's name as shown to shoppers.
	Title string
	// Brand is the maker or publisher; it is filterable as "brand".
	Brand string
	// Category is the category path from the top level down, e.g.
	// ["Clothing", "Shoes", "Boots"]; it is filterable as "category", joined
	// by retrieval.CategorySeparator.
	Category []string
	// Description is the long text; it may contain HTML, which is stripped
	// before embedding and summarizing.
	Description string
	// Attributes are extra facts ("color": "red"); each is filterable under
	// its own key and is part of the text that is embedded.
	Attributes map[string]string
	// Images are the product's pictures; the first one that can be read is
	// embedded.
	Images []Image
	// Caption describes the product's picture in words. With
	// WithOllama(OllamaConfig{Captions: true}) the engine writes it at
	// indexing time when it is empty; a caller may also set it. It is part
	// of the text that is embedded and summarized, so that text-only
	// stages see what the picture shows.
	Caption string
	// TextVector is an optional precomputed text vector; when set, it must
	// have the engine's text embedder's dimension and is used instead of
	// embedding the text.
	TextVector []float32
	// ImageVector is an optional precomputed image vector; when set, it must
	// have the engine's image embedder's dimension and is used instead of
	// embedding the images.
	ImageVector []float32
}

// Image is a product picture: encoded bytes, a reference to them, or both.
type Image struct {
	// Data holds the encoded image: JPEG, PNG, GIF (its first frame) or
	// WebP (lossy or lossless), the formats the default image embedder and
	// the pictures sent to models (WithOllama) decode. With the default image
	// embedder, other bytes fail Upsert with an error wrapping
	// retrieval.ErrInvalidImage.
	Data []byte
	// URI locates the image when Data is empty: a local file path or a
	// file:// URL is read from disk; http(s) URLs are kept as references and
	// are not fetched by the offline engine.
	URI string
}

// reservedMetadata are the metadata keys the engine fills itself; attributes
// with these names are rejected so that a filter means one thing.
var reservedMetadata = map[string]bool{"brand": true, "category": true}

// validate checks what the engine needs before a product can be indexed.
func (p *Product) validate() error { return p.validateText(p.text()) }

// validateText is validate for a product whose plain text is text.
func (p *Product) validateText(text string) error {
	if strings.TrimSpace(p.ID) == "" {
		return fmt.Errorf("%w: product has an empty ID", ErrInvalidProduct)
	}
	if strings.TrimSpace(text) == "" && len(p.TextVector) == 0 {
		return fmt.Errorf("%w: product %q has no text and no text vector", ErrInvalidProduct, p.ID)
	}
	for k := range p.Attributes {
		if reservedMetadata[k] || k == "" {
			return fmt.Errorf("%w: product %q has attribute %q, which is empty or reserved", ErrInvalidProduct, p.ID, k)
		}
	}
	return nil
}

// field returns the filterable field key of p, as metadata holds it, and
// whether p has it; filters read it instead of a whole metadata map.
func (p *Product) field(key string) (string, bool) {
	switch key {
	case "brand":
		return p.Brand, p.Brand != ""
	case "category":
		if len(p.Category) == 0 {
			return "", false
		}
		return strings.Join(p.Category, retrieval.CategorySeparator), true
	}
	v, ok := p.Attributes[key]
	return v, ok
}

// metadata returns the filterable fields of p.
func (p *Product) metadata() map[string]string {
	md := make(map[string]string, len(p.Attributes)+2)
	for k, v := range p.Attributes {
		md[k] = v
	}
	if p.Brand != "" {
		md["brand"] = p.Brand
	}
	if len(p.Category) > 0 {
		md["category"] = strings.Join(p.Category, retrieval.CategorySeparator)
	}
	return md
}
