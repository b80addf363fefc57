// Package imageprep turns a product picture (bytes, a local file or an
// http(s) URL) into what a vision model should see: decoded, downscaled so
// that its longest side fits a budget, composited over white and re-encoded
// as JPEG. Vision models resize every picture to a few hundred pixels
// anyway; sending them that size instead of the catalogue original cuts the
// request size, the server's decoding work and the image cache's memory.
package imageprep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	// Register the decoders image.Decode dispatches to.
	_ "image/gif"
	_ "image/png"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"hmpps/retrieval"
)

// Defaults of the Preparer fields.
const (
	// DefaultMaxSide suits common local vision models: Qwen2.5-VL cuts a
	// 448-pixel square into 16×16 patches of 28 pixels (256 image tokens),
	// and Gemma 3 and LLaVA-style models resize to a similar size.
	DefaultMaxSide = 448
	// DefaultMaxBytes caps the encoded input read from a file or URL.
	DefaultMaxBytes = 16 << 20
	// DefaultMaxPixels caps width×height before decoding, so that a small
	// file declaring a huge image cannot exhaust memory.
	DefaultMaxPixels = retrieval.DefaultMaxImagePixels
	// DefaultQuality is the JPEG quality of prepared images.
	DefaultQuality = 85
)

// ErrInvalidImage reports an image that cannot be prepared: empty, corrupt,
// in an unsupported format, or over a size limit. It is the same value as
// retrieval.ErrInvalidImage.
var ErrInvalidImage = retrieval.ErrInvalidImage

// ErrRemoteImage reports an http(s) image when the Preparer has no HTTP
// client: the caller did not allow fetching, so the product is text-only.
var ErrRemoteImage = errors.New("imageprep: remote image and no HTTP client to fetch it")

// Source is where a picture comes from: its bytes, or a URI to load them
// from when Data is empty.
type Source struct {
	// Data holds the encoded image (JPEG, PNG, GIF or WebP).
	Data []byte
	// URI is a local path, a file:// URL or an http(s) URL.
	URI string
}

// Preparer loads and prepares images. The zero value uses the defaults and
// does not fetch remote images. It is safe for concurrent use.
type Preparer struct {
	// MaxSide is the longest side, in pixels, of a prepared image; larger
	// images are downscaled, smaller ones keep their size. If zero,
	// DefaultMaxSide.
	MaxSide int
	// MaxBytes caps the encoded input read from a file or URL. If zero,
	// DefaultMaxBytes.
	MaxBytes int64
	// MaxPixels caps width×height, checked from the header before any pixel
	// is decoded. If zero, DefaultMaxPixels.
	MaxPixels int64
	// Quality is the JPEG quality, 1 to 100. If zero, DefaultQuality.
	Quality int
	// HTTPClient fetches http(s) images. If nil, they are not fetched and
	// Prepare returns ErrRemoteImage, so that a service never reaches out to
	// catalogue URLs unless its owner chose to.
	HTTPClient *http.Client
}

// Validate reports a negative or out-of-range field.
func (p Preparer) Validate() error {
	switch {
	case p.MaxSide < 0:
		return fmt.Errorf("imageprep: max side %d is negative", p.MaxSide)
	case p.MaxBytes < 0:
		return fmt.Errorf("imageprep: max bytes %d is negative", p.MaxBytes)
	case p.MaxPixels < 0:
		return fmt.Errorf("imageprep: max pixels %d is negative", p.MaxPixels)
	case p.Quality < 0 || p.Quality > 100:
		return fmt.Errorf("imageprep: quality %d is outside 1..100", p.Quality)
	}
	return nil
}

// Prepare loads src and returns it downscaled and re-encoded as JPEG. A
// corrupt or oversized image fails with an error wrapping ErrInvalidImage; an
// http(s) image without an HTTP client with ErrRemoteImage; a missing file,
// a failed download or a cancelled ctx with their own errors.
func (p Preparer) Prepare(ctx context.Context, src Source) ([]byte, error) {
	data, err := p.Load(ctx, src)
	if err != nil {
		return nil, err
	}
	return p.Encode(data)
}

// Load returns src's encoded bytes: Data, or what its URI points to.
func (p Preparer) Load(ctx context.Context, src Source) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(src.Data) > 0 {
		return src.Data, nil
	}
	if src.URI == "" {
		return nil, fmt.Errorf("%w: no bytes and no URI", ErrInvalidImage)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u, err := url.Parse(src.URI)
	if err != nil || len(u.Scheme) <= 1 { // "C:" is a drive, not a scheme
		return p.readFile(src.URI)
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		return p.readFile(u.Path)
	case "http", "https":
		return p.fetch(ctx, src.URI)
	default:
		return nil, fmt.Errorf("imageprep: %s: unsupported URI scheme %q", src.URI, u.Scheme)
	}
}

func (p Preparer) maxBytes() int64 {
	if p.MaxBytes > 0 {
		return p.MaxBytes
	}
	return DefaultMaxBytes
}

func (p Preparer) readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imageprep: %w", err)
	}
	defer f.Close()
	return p.readCapped(f, path)
}

func (p Preparer) fetch(ctx context.Context, uri string) ([]byte, error) {
	if p.HTTPClient == nil {
		return nil, ErrRemoteImage
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("imageprep: %w", err)
	}
	req.Header.Set("Accept", "image/jpeg, image/png, image/webp, image/gif")
	resp, err := p.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("imageprep: fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("imageprep: fetch %s: %s", uri, resp.Status)
	}
	if resp.ContentLength > p.maxBytes() {
		return nil, fmt.Errorf("%w: %s is %d bytes, over the limit of %d", ErrInvalidImage, uri, resp.ContentLength, p.maxBytes())
	}
	return p.readCapped(resp.Body, uri)
}

// readCapped reads r whole unless it holds more than maxBytes.
func (p Preparer) readCapped(r io.Reader, name string) ([]byte, error) {
	limit := p.maxBytes()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("imageprep: read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s is over the limit of %d bytes", ErrInvalidImage, name, limit)
	}
	return data, nil
}

// Encode decodes an encoded image, downscales it to fit MaxSide, composites
// it over white and returns it as JPEG.
func (p Preparer) Encode(data []byte) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: no bytes", ErrInvalidImage)
	}
	maxPixels, maxSide, quality := p.MaxPixels, p.MaxSide, p.Quality
	if maxPixels == 0 {
		maxPixels = DefaultMaxPixels
	}
	if maxSide == 0 {
		maxSide = DefaultMaxSide
	}
	if quality == 0 {
		quality = DefaultQuality
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %s declares %d×%d pixels", ErrInvalidImage, format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return nil, fmt.Errorf("%w: %s declares %d×%d pixels, over the limit of %d", ErrInvalidImage, format, cfg.Width, cfg.Height, maxPixels)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidImage, format, err)
	}
	b := src.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("%w: %s decodes to no pixels", ErrInvalidImage, format)
	}
	w, h := Fit(b.Dx(), b.Dy(), maxSide)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	if w == b.Dx() && h == b.Dy() {
		draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Over)
	} else {
		// Catmull-Rom averages over the source pixels each output pixel
		// covers, so thin lines and text survive a large reduction without
		// the aliasing of nearest-neighbour sampling.
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("imageprep: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// Fit returns the size of a w×h image scaled down, keeping its aspect ratio,
// so that its longest side is at most maxSide; images already small enough
// keep their size. Neither side drops below 1.
func Fit(w, h, maxSide int) (int, int) {
	long := max(w, h)
	if long <= maxSide || maxSide <= 0 {
		return w, h
	}
	scale := func(x int) int { return max(1, int((int64(x)*int64(maxSide)+int64(long)/2)/int64(long))) }
	return scale(w), scale(h)
}
