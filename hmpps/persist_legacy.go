package hmpps

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"hash/crc32"

	"hmpps/retrieval"
)

// Files of versions 1 and 2: fileMagic, a uint32 version, a gob stream of
// one fileHeader, Count fileRecords and (from version 2) Sections
// fileSections, and a CRC-32C of everything before it. Version 1 holds the
// catalog only; 2 adds the sections. Open still reads both; Save writes the
// current version (see persist.go).

// fileRecord is one catalog entry in a file of version 1 or 2.
type fileRecord struct {
	Product Product
	Vector  []float32
	// Image is the embedded image when it did not come from Product.Images'
	// bytes (it was read from a local path); nil otherwise.
	Image []byte
}

// decodeLegacy decodes a file of version 1 or 2, whose bytes are data. It
// checks the checksum before decoding anything, so corrupt input never
// reaches the decoder's allocations.
func decodeLegacy(data []byte, version uint32) (fileHeader, []fileRecord, []fileSection, error) {
	var h fileHeader
	body, trailer := data[:len(data)-4], data[len(data)-4:]
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(trailer); got != want {
		return h, nil, nil, fmt.Errorf("%w: checksum mismatch (truncated or altered)", ErrCorruptFile)
	}
	dec := gob.NewDecoder(bytes.NewReader(body[len(fileMagic)+4:]))
	if err := dec.Decode(&h); err != nil {
		return h, nil, nil, fmt.Errorf("%w: header: %v", ErrCorruptFile, err)
	}
	if h.Count < 0 || h.TextDim <= 0 || h.ImageDim < 0 || h.Count > len(body) ||
		h.Sections < 0 || h.Sections > len(body) || version < 2 && h.Sections != 0 {
		return h, nil, nil, fmt.Errorf("%w: header %+v", ErrCorruptFile, h)
	}
	records := make([]fileRecord, h.Count)
	seen := make(map[string]bool, h.Count)
	for i := range records {
		r := &records[i]
		if err := dec.Decode(r); err != nil {
			return h, nil, nil, fmt.Errorf("%w: record %d: %v", ErrCorruptFile, i, err)
		}
		if err := r.Product.validate(); err != nil || seen[r.Product.ID] {
			return h, nil, nil, fmt.Errorf("%w: record %d: invalid or repeated product %q", ErrCorruptFile, i, r.Product.ID)
		}
		seen[r.Product.ID] = true
		if err := retrieval.CheckVector(r.Vector, h.TextDim+h.ImageDim); err != nil {
			return h, nil, nil, fmt.Errorf("%w: record %d: %v", ErrCorruptFile, i, err)
		}
	}
	sections := make([]fileSection, h.Sections)
	kinds := make(map[string]bool, h.Sections)
	for i := range sections {
		sec := &sections[i]
		if err := dec.Decode(sec); err != nil {
			return h, nil, nil, fmt.Errorf("%w: section %d: %v", ErrCorruptFile, i, err)
		}
		if kinds[sec.Kind] {
			return h, nil, nil, fmt.Errorf("%w: section %q twice", ErrCorruptFile, sec.Kind)
		}
		kinds[sec.Kind] = true
	}
	return h, records, sections, nil
}

// legacyContents turns the records of a file of version 1 or 2 into what a
// file of the current version holds. Such files kept no picture for a
// product whose picture was its first image bytes, or that had none: both
// open with its first image bytes, if any, as they always did.
func legacyContents(h fileHeader, records []fileRecord, sections []fileSection) *fileContents {
	c := &fileContents{header: h, sections: sections}
	dim := h.TextDim + h.ImageDim
	c.records = make([]record, len(records))
	c.vectors = make([]float32, 0, len(records)*dim)
	for i := range records {
		r := &records[i]
		picture := r.Image
		if picture == nil {
			picture = firstImageData(r.Product.Images)
		}
		c.records[i] = encodeRecord(&r.Product, picture)
		c.vectors = append(c.vectors, r.Vector...)
	}
	return c
}
