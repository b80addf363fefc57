package eval

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"hmpps/hmpps"
)

// LoadAmazonCatalog reads every product of the metadata file in dir (see
// LoadAmazon for the layout), reviewed or not: the whole catalog a shop of
// that category would index, where LoadAmazon keeps the products its
// purchases name. Products are in file order; a product with two metadata
// rows keeps the first.
func LoadAmazonCatalog(ctx context.Context, dir string) ([]hmpps.Product, error) {
	_, metaPath, err := amazonFiles(dir)
	if err != nil {
		return nil, err
	}
	meta, err := openMaybeGzip(metaPath)
	if err != nil {
		return nil, err
	}
	defer meta.Close()
	products, err := ReadAmazonCatalog(ctx, meta)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, filepath.Base(metaPath))
	}
	return products, nil
}

// ReadAmazonCatalog reads metadata in the Amazon Review Data (2018) format
// into products, every row one, with the text cleaning of ReadAmazon. A
// malformed line fails the read with an error wrapping ErrMalformedRecord.
func ReadAmazonCatalog(ctx context.Context, meta io.Reader) ([]hmpps.Product, error) {
	var products []hmpps.Product
	seen := make(map[string]bool)
	err := eachLine(ctx, meta, func(line int, b []byte) error {
		m, err := parseMetadata(b)
		if err != nil {
			return fmt.Errorf("metadata line %d: %w", line, err)
		}
		if seen[m.ASIN] {
			return nil
		}
		seen[m.ASIN] = true
		p, _ := m.product()
		products = append(products, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(products) == 0 {
		return nil, fmt.Errorf("%w: no metadata rows", ErrNoData)
	}
	return products, nil
}
