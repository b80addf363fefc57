package hmpps

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"hmpps/retrieval"
)

// record is a catalog product as the engine keeps it: the product encoded
// in one immutable string, with the picture its vector was made from (see
// pictureNone). It is all the engine stores of a product besides its vector
// and its lexical postings: what a search reads of it (the text to
// summarize, a filter's fields, the result's Product) it decodes from the
// record when it needs it, for the few products it needs it for. A record
// is self-contained, so that it can be written to a file, or to a shared
// store, as it is.
//
// The encoding is uvarints and length-prefixed bytes, in this order: the
// format (recordFormat); ID, Title, Brand; Category; Description;
// Attributes as key-value pairs in ascending key order; Images, each its
// Data and URI; Caption; TextVector and ImageVector as little-endian
// float32s; the picture (see pictureNone). A list, a map, a byte slice or a
// vector is preceded by its length plus one, or by zero when it is nil, so
// that a product decodes to exactly what was written.
type record string

// recordFormat is the version of the encoding of a record.
const recordFormat = 1

// errRecord reports a record that does not decode.
var errRecord = errors.New("hmpps: malformed product record")

// The picture of a record is what the model stages see of the product: a
// uvarint, pictureNone when it has none, pictureFirst when it is the first
// image bytes the product has (its picture is one of its images), or the
// length of the picture plus pictureOwn, then its bytes, when the picture
// was read from elsewhere (a local file an image names).
const (
	pictureNone  = 0
	pictureFirst = 1
	pictureOwn   = 2
)

// encodeRecord returns p's record; picture is the product's picture (nil
// for none).
func encodeRecord(p *Product, picture []byte) record {
	size := 16 + len(p.ID) + len(p.Title) + len(p.Brand) + len(p.Description) + len(p.Caption) + len(picture) +
		4*(len(p.TextVector)+len(p.ImageVector))
	for _, c := range p.Category {
		size += len(c) + 2
	}
	for k, v := range p.Attributes {
		size += len(k) + len(v) + 4
	}
	for _, im := range p.Images {
		size += len(im.Data) + len(im.URI) + 4
	}
	b := make([]byte, 0, size)
	b = binary.AppendUvarint(b, recordFormat)
	b = appendString(b, p.ID)
	b = appendString(b, p.Title)
	b = appendString(b, p.Brand)
	b = appendCount(b, len(p.Category), p.Category == nil)
	for _, c := range p.Category {
		b = appendString(b, c)
	}
	b = appendString(b, p.Description)
	b = appendCount(b, len(p.Attributes), p.Attributes == nil)
	for _, k := range slices.Sorted(maps.Keys(p.Attributes)) {
		b = appendString(b, k)
		b = appendString(b, p.Attributes[k])
	}
	b = appendCount(b, len(p.Images), p.Images == nil)
	for _, im := range p.Images {
		b = appendBytes(b, im.Data)
		b = appendString(b, im.URI)
	}
	b = appendString(b, p.Caption)
	b = appendVector(b, p.TextVector)
	b = appendVector(b, p.ImageVector)
	switch {
	case picture == nil:
		b = append(b, pictureNone)
	case firstImageData(p.Images) != nil && string(picture) == string(firstImageData(p.Images)):
		b = append(b, pictureFirst)
	default:
		b = binary.AppendUvarint(b, uint64(len(picture))+pictureOwn)
		b = append(b, picture...)
	}
	return record(b)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendCount appends n+1, or 0 for a nil list.
func appendCount(b []byte, n int, isNil bool) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

func appendBytes(b, data []byte) []byte {
	b = appendCount(b, len(data), data == nil)
	return append(b, data...)
}

func appendVector(b []byte, v []float32) []byte {
	b = appendCount(b, len(v), v == nil)
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// recordReader reads a record's fields in order. Its first error sticks,
// after which every read returns zero values.
type recordReader struct {
	s   string
	off int
	err error
}

func (r *recordReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w at byte %d", errRecord, r.off)
	}
}

func (r *recordReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if r.off >= len(r.s) || shift > 63 {
			r.fail()
			return 0
		}
		c := r.s[r.off]
		r.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
}

// bytes returns the next n bytes, if there are that many.
func (r *recordReader) bytes(n uint64) string {
	if r.err == nil && n > uint64(len(r.s)-r.off) {
		r.fail()
	}
	if r.err != nil {
		return ""
	}
	s := r.s[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *recordReader) string() string { return r.bytes(r.uvarint()) }

// count returns the length of a list and whether it is nil; each of its
// items is at least minBytes long, so that a corrupt count cannot make a
// decoder allocate more than the record justifies.
func (r *recordReader) count(minBytes int) (int, bool) {
	n := r.uvarint()
	if n == 0 {
		return 0, true
	}
	if n-1 > uint64((len(r.s)-r.off)/minBytes) {
		r.fail()
		return 0, true
	}
	return int(n - 1), false
}

// nullable returns the next byte slice, or false for a nil one.
func (r *recordReader) nullable() (string, bool) {
	n, isNil := r.count(1)
	if isNil {
		return "", false
	}
	return r.bytes(uint64(n)), true
}

func (r *recordReader) vector() []float32 {
	n, isNil := r.count(4)
	if isNil {
		return nil
	}
	raw := r.bytes(4 * uint64(n))
	if r.err != nil {
		return nil
	}
	v := make([]float32, n)
	for i := range v {
		b := raw[4*i : 4*i+4]
		v[i] = math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	}
	return v
}

// picture reads the picture field: its mode and, for pictureOwn, the bytes.
func (r *recordReader) picture() (mode uint64, own string) {
	mode = r.uvarint()
	if mode < pictureOwn {
		return mode, ""
	}
	return pictureOwn, r.bytes(mode - pictureOwn)
}

// The fields a record is read up to: each reader starts from the first
// byte and skips the fields before its own, which costs a few uvarints.

// head reads the format and the ID, title and brand.
func (rec record) head() (r recordReader, id, title, brand string) {
	r = recordReader{s: string(rec)}
	if r.uvarint() != recordFormat {
		r.fail()
	}
	id, title, brand = r.string(), r.string(), r.string()
	return r, id, title, brand
}

func (rec record) id() string {
	_, id, _, _ := rec.head()
	return id
}

// skipCategory reads past the category path.
func (r *recordReader) skipCategory() {
	n, _ := r.count(1)
	for range n {
		r.string()
	}
}

// appendCategory appends the levels of the category path to dst; isNil
// says the path was nil.
func (rec record) appendCategory(dst []string) (out []string, isNil bool) {
	r, _, _, _ := rec.head()
	n, isNil := r.count(1)
	for range n {
		dst = append(dst, r.string())
	}
	return dst, isNil
}

// description returns the description and leaves r at the attributes.
func (rec record) description() (recordReader, string) {
	r, _, _, _ := rec.head()
	r.skipCategory()
	return r, r.string()
}

// attribute returns the value of attribute key and whether there is one.
func (rec record) attribute(key string) (string, bool) {
	r, _ := rec.description()
	n, _ := r.count(2)
	for range n {
		k, v := r.string(), r.string()
		if k == key {
			return v, true
		}
	}
	return "", false
}

// skipAttributes reads past the attributes.
func (r *recordReader) skipAttributes() {
	n, _ := r.count(2)
	for range n {
		r.string()
		r.string()
	}
}

// images returns a reader at the images, with their count.
func (rec record) images() (recordReader, int) {
	r, _ := rec.description()
	r.skipAttributes()
	n, _ := r.count(2)
	return r, n
}

// caption returns the caption and leaves r at the text vector.
func (rec record) caption() (recordReader, string) {
	r, n := rec.images()
	for range n {
		r.nullable()
		r.string()
	}
	return r, r.string()
}

// picture returns the product's picture (see pictureNone), or nil.
func (rec record) picture() []byte {
	r, _ := rec.caption()
	r.vector()
	r.vector()
	switch mode, own := r.picture(); {
	case r.err != nil || mode == pictureNone:
		return nil
	case mode == pictureOwn:
		return []byte(own)
	}
	r, n := rec.images()
	for range n {
		data, _ := r.nullable()
		r.string()
		if data != "" {
			return []byte(data)
		}
	}
	return nil
}

// hasPicture reports whether the product has a picture, without copying it.
func (rec record) hasPicture() bool {
	r, _ := rec.caption()
	r.vector()
	r.vector()
	mode, _ := r.picture()
	return r.err == nil && mode != pictureNone
}

// product decodes the whole product, sharing no memory with the record but
// its strings, which are immutable.
func (rec record) product() Product {
	p, _, err := rec.decode()
	if err != nil {
		// Records are checked when they are made or read from a file.
		panic(err)
	}
	return p
}

// decode decodes the whole record, checking it, and returns the product and
// its picture: a record read from a file goes through decode before the
// engine keeps it.
func (rec record) decode() (Product, []byte, error) {
	var p Product
	r := recordReader{s: string(rec)}
	if r.uvarint() != recordFormat {
		r.fail()
	}
	p.ID, p.Title, p.Brand = r.string(), r.string(), r.string()
	if n, isNil := r.count(1); !isNil {
		p.Category = make([]string, n)
		for i := range p.Category {
			p.Category[i] = r.string()
		}
	}
	p.Description = r.string()
	if n, isNil := r.count(2); !isNil {
		p.Attributes = make(map[string]string, n)
		prev := ""
		for i := range n {
			k, v := r.string(), r.string()
			if i > 0 && k <= prev {
				r.fail() // keys are written once each, ascending
			}
			p.Attributes[k], prev = v, k
		}
	}
	if n, isNil := r.count(2); !isNil {
		p.Images = make([]Image, n)
		for i := range p.Images {
			if data, ok := r.nullable(); ok {
				p.Images[i].Data = []byte(data)
			}
			p.Images[i].URI = r.string()
		}
	}
	p.Caption = r.string()
	p.TextVector = r.vector()
	p.ImageVector = r.vector()
	var picture []byte
	switch mode, own := r.picture(); mode {
	case pictureFirst:
		picture = firstImageData(p.Images)
		if picture == nil {
			r.fail() // the first image bytes of a product that has none
		}
	case pictureOwn:
		picture = []byte(own)
	}
	if r.err == nil && r.off != len(r.s) {
		r.fail()
	}
	return p, picture, r.err
}

// check reports whether the record decodes, and holds a product the engine
// could have written: an ID that is not blank, attributes whose keys are
// neither empty nor reserved. It allocates nothing, so that a file of a
// million records is checked in a fraction of a second. It does not check
// that the product has text: the file's checksum vouches that Save wrote
// it from a product that did.
func (rec record) check() error {
	r := recordReader{s: string(rec)}
	if r.uvarint() != recordFormat {
		r.fail()
	}
	id := r.string()
	r.string()
	r.string()
	r.skipCategory()
	r.string()
	n, _ := r.count(2)
	prev := ""
	for i := range n {
		k := r.string()
		r.string()
		if r.err == nil && (k == "" || reservedMetadata[k] || i > 0 && k <= prev) {
			return fmt.Errorf("%w: attribute %q", errRecord, k)
		}
		prev = k
	}
	n, _ = r.count(2)
	first := false
	for range n {
		data, _ := r.nullable()
		r.string()
		first = first || data != ""
	}
	r.string()
	for range 2 {
		if n, isNil := r.count(4); !isNil {
			r.bytes(4 * uint64(n))
		}
	}
	if mode, _ := r.picture(); r.err == nil && mode == pictureFirst && !first {
		r.fail()
	}
	if r.err == nil && r.off != len(r.s) {
		r.fail()
	}
	if r.err != nil {
		return r.err
	}
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("%w: blank ID", errRecord)
	}
	return nil
}

// field returns the value of a filterable field, as Product.field does.
func (rec record) field(key string) (string, bool) {
	switch key {
	case "brand":
		_, _, _, brand := rec.head()
		return brand, brand != ""
	case "category":
		var buf [8]string
		levels, _ := rec.appendCategory(buf[:0])
		if len(levels) == 0 {
			return "", false
		}
		return strings.Join(levels, retrieval.CategorySeparator), true
	}
	return rec.attribute(key)
}
