package hmpps

import (
	"bytes"
	"context"
	"io"
)

// decodeFile decodes an engine file of any version, whose bytes are data,
// into its header, its records as files of versions 1 and 2 held them
// (a picture that is the product's first image bytes is left out), and its
// other sections: what the tests inspect and edit of a file.
func decodeFile(data []byte) (fileHeader, []fileRecord, []fileSection, error) {
	c, err := readFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fileHeader{}, nil, nil, err
	}
	h := c.header
	h.Count, h.Sections = len(c.records), len(c.sections)
	dim := h.TextDim + h.ImageDim
	records := make([]fileRecord, len(c.records))
	for i, rec := range c.records {
		p, picture, err := rec.decode()
		if err != nil {
			return h, nil, nil, err
		}
		records[i] = fileRecord{Product: p, Vector: c.vectors[i*dim : (i+1)*dim]}
		if picture != nil && !bytes.Equal(picture, firstImageData(p.Images)) {
			records[i].Image = picture
		}
	}
	return h, records, c.sections, nil
}

// encodeFile writes a file of the current version holding h's configuration,
// records (whose pictures are read as decodeFile leaves them) and sections.
func encodeFile(ctx context.Context, w io.Writer, h fileHeader, records []fileRecord, sections []fileSection) error {
	dim := h.TextDim + h.ImageDim
	recs := make([]record, len(records))
	for i := range records {
		r := &records[i]
		picture := r.Image
		if picture == nil {
			picture = firstImageData(r.Product.Images)
		}
		recs[i] = encodeRecord(&r.Product, picture)
	}
	vectors := func(lo, hi int, dst []float32) error {
		for i := lo; i < hi; i++ {
			copy(dst[(i-lo)*dim:], records[i].Vector)
		}
		return nil
	}
	return encodeFile3(ctx, w, h, dim, recs, vectors, sections)
}
