package main

import (
	"fmt"
	"net/url"

	"hmpps/hmpps"
)

// product is the JSON form of hmpps.Product.
type product struct {
	ID          string            `json:"id"`
	Title       string            `json:"title,omitempty"`
	Brand       string            `json:"brand,omitempty"`
	Category    []string          `json:"category,omitempty"`
	Description string            `json:"description,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	Images      []image           `json:"images,omitempty"`
	Caption     string            `json:"caption,omitempty"`
	TextVector  []float32         `json:"text_vector,omitempty"`
	ImageVector []float32         `json:"image_vector,omitempty"`
}

// image is the JSON form of hmpps.Image: Data is base64, as encoding/json
// writes bytes.
type image struct {
	Data []byte `json:"data,omitempty"`
	URI  string `json:"uri,omitempty"`
}

// toEngine converts p for the engine. Image URIs must be http(s): the engine
// reads local paths from disk, which a client of a service must not make it
// do.
func (p product) toEngine() (hmpps.Product, error) {
	out := hmpps.Product{ID: p.ID, Title: p.Title, Brand: p.Brand, Category: p.Category,
		Description: p.Description, Attributes: p.Attributes, Caption: p.Caption,
		TextVector: p.TextVector, ImageVector: p.ImageVector}
	for i, im := range p.Images {
		if im.URI != "" {
			u, err := url.Parse(im.URI)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return out, fmt.Errorf("%w: product %q image %d: uri must be an http or https URL, got %q", errBadInput, p.ID, i, im.URI)
			}
		}
		out.Images = append(out.Images, hmpps.Image{Data: im.Data, URI: im.URI})
	}
	return out, nil
}

// textBytes is the size of p's text: everything of it the engine embeds,
// tokenizes or summarizes, its ID included.
func (p product) textBytes() int {
	n := len(p.ID) + len(p.Title) + len(p.Brand) + len(p.Description) + len(p.Caption)
	for _, c := range p.Category {
		n += len(c)
	}
	for k, v := range p.Attributes {
		n += len(k) + len(v)
	}
	return n
}

// fromEngine converts a catalog product for the client. Without full, it
// leaves out the description, pictures and vectors, to keep search
// responses small: a result carries its summary instead.
func fromEngine(p hmpps.Product, full bool) product {
	out := product{ID: p.ID, Title: p.Title, Brand: p.Brand, Category: p.Category,
		Attributes: p.Attributes, Caption: p.Caption}
	if full {
		out.Description = p.Description
		for _, im := range p.Images {
			out.Images = append(out.Images, image{Data: im.Data, URI: im.URI})
		}
		out.TextVector, out.ImageVector = p.TextVector, p.ImageVector
	}
	return out
}

// upsertRequest is the body of PUT /products.
type upsertRequest struct {
	Products []product `json:"products"`
}

// upsertResponse answers PUT /products.
type upsertResponse struct {
	// Upserted is how many products the batch added or replaced.
	Upserted int `json:"upserted"`
	// Products is the catalog's size after the batch.
	Products int `json:"products"`
}
