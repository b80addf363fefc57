package imageprep

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func solid(w, h int, c color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// hugePNG returns a valid PNG signature and IHDR declaring w×h pixels and
// no pixel data.
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func decode(t *testing.T, data []byte) (image.Image, string) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	return img, format
}

func TestPrepareDecodesAndDownscales(t *testing.T) {
	webp, err := os.ReadFile(filepath.Join("testdata", "split-red-blue.lossy.webp"))
	require.NoError(t, err)
	var gifBuf bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, 900, 300), color.Palette{color.Black, color.RGBA{200, 0, 0, 255}})
	require.NoError(t, gif.Encode(&gifBuf, pal, nil))
	transparent := image.NewNRGBA(image.Rect(0, 0, 10, 10)) // all pixels fully transparent

	tests := []struct {
		name         string
		data         []byte
		p            Preparer
		wantW, wantH int
	}{
		{"large PNG is downscaled to the default", encodePNG(t, solid(896, 672, color.RGBA{10, 20, 30, 255})), Preparer{}, 448, 336},
		{"tall image keeps its aspect", encodePNG(t, solid(100, 1000, color.Black)), Preparer{}, 45, 448},
		{"small image keeps its size", encodePNG(t, solid(40, 30, color.Black)), Preparer{}, 40, 30},
		{"configured max side", encodePNG(t, solid(600, 600, color.Black)), Preparer{MaxSide: 512}, 512, 512},
		{"GIF", gifBuf.Bytes(), Preparer{}, 448, 149},
		{"WebP", webp, Preparer{MaxSide: 8}, 8, 6},
		{"transparent PNG", encodePNG(t, transparent), Preparer{}, 10, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.p.Prepare(context.Background(), Source{Data: tt.data})
			require.NoError(t, err)
			img, format := decode(t, out)
			assert.Equal(t, "jpeg", format)
			assert.Equal(t, tt.wantW, img.Bounds().Dx())
			assert.Equal(t, tt.wantH, img.Bounds().Dy())
		})
	}
}

func TestPrepareCompositesOverWhite(t *testing.T) {
	out, err := Preparer{}.Prepare(context.Background(), Source{Data: encodePNG(t, image.NewNRGBA(image.Rect(0, 0, 8, 8)))})
	require.NoError(t, err)
	img, _ := decode(t, out)
	r, g, b, _ := img.At(4, 4).RGBA()
	assert.Greater(t, r>>8, uint32(245))
	assert.Greater(t, g>>8, uint32(245))
	assert.Greater(t, b>>8, uint32(245))
}

func TestPrepareErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.png")
	require.NoError(t, os.WriteFile(big, bytes.Repeat([]byte{1}, 2048), 0o600))
	tests := []struct {
		name    string
		p       Preparer
		src     Source
		wantErr error
		wantMsg string
	}{
		{"corrupt bytes", Preparer{}, Source{Data: []byte("not an image")}, ErrInvalidImage, "unknown format"},
		{"truncated PNG", Preparer{}, Source{Data: encodePNG(t, solid(64, 64, color.White))[:60]}, ErrInvalidImage, ""},
		{"declares too many pixels", Preparer{}, Source{Data: hugePNG(100000, 100000)}, ErrInvalidImage, "over the limit"},
		{"configured pixel limit", Preparer{MaxPixels: 100}, Source{Data: encodePNG(t, solid(20, 20, color.White))}, ErrInvalidImage, "over the limit"},
		{"nothing to load", Preparer{}, Source{}, ErrInvalidImage, "no bytes and no URI"},
		{"missing file", Preparer{}, Source{URI: filepath.Join(dir, "missing.png")}, os.ErrNotExist, ""},
		{"file over the byte limit", Preparer{MaxBytes: 1024}, Source{URI: big}, ErrInvalidImage, "limit of 1024 bytes"},
		{"remote without a client", Preparer{}, Source{URI: "https://example.com/a.jpg"}, ErrRemoteImage, ""},
		{"unsupported scheme", Preparer{}, Source{URI: "ftp://example.com/a.jpg"}, nil, "unsupported URI scheme"},
		{"negative side", Preparer{MaxSide: -1}, Source{Data: []byte{1}}, nil, "max side"},
		{"bad quality", Preparer{Quality: 101}, Source{Data: []byte{1}}, nil, "quality"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.Prepare(context.Background(), tt.src)
			require.Error(t, err)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}

func TestPrepareFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.png")
	require.NoError(t, os.WriteFile(path, encodePNG(t, solid(600, 600, color.Black)), 0o600))
	for _, uri := range []string{path, "file://" + path} {
		out, err := Preparer{}.Prepare(context.Background(), Source{URI: uri})
		require.NoError(t, err, uri)
		img, _ := decode(t, out)
		assert.Equal(t, 448, img.Bounds().Dx(), uri)
	}
}

func TestPrepareFetches(t *testing.T) {
	pic := encodePNG(t, solid(700, 350, color.RGBA{0, 0, 255, 255}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pic.png":
			w.Write(pic)
		case "/chunked.png": // no Content-Length: the reader's cap must catch it
			w.(http.Flusher).Flush()
			w.Write(pic)
		case "/declared.png":
			w.Header().Set("Content-Length", strconv.Itoa(len(pic)))
			w.Write(pic)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	p := Preparer{HTTPClient: srv.Client()}

	out, err := p.Prepare(context.Background(), Source{URI: srv.URL + "/pic.png"})
	require.NoError(t, err)
	img, _ := decode(t, out)
	assert.Equal(t, image.Rect(0, 0, 448, 224), img.Bounds())

	_, err = p.Prepare(context.Background(), Source{URI: srv.URL + "/missing.png"})
	assert.ErrorContains(t, err, "404")

	small := Preparer{HTTPClient: srv.Client(), MaxBytes: 100}
	for _, path := range []string{"/chunked.png", "/declared.png"} {
		_, err = small.Prepare(context.Background(), Source{URI: srv.URL + path})
		assert.ErrorIs(t, err, ErrInvalidImage, path)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Prepare(ctx, Source{URI: srv.URL + "/pic.png"})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestFit(t *testing.T) {
	tests := []struct{ w, h, max, wantW, wantH int }{
		{1000, 500, 448, 448, 224},
		{500, 1000, 448, 224, 448},
		{448, 448, 448, 448, 448},
		{10, 5, 448, 10, 5},
		{10000, 1, 448, 448, 1},
		{3, 2, 0, 3, 2},
	}
	for _, tt := range tests {
		w, h := Fit(tt.w, tt.h, tt.max)
		assert.Equal(t, [2]int{tt.wantW, tt.wantH}, [2]int{w, h}, "%d×%d into %d", tt.w, tt.h, tt.max)
	}
}

func TestCache(t *testing.T) {
	var fetches atomic.Int32
	pic := encodePNG(t, solid(500, 500, color.White))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if r.URL.Path == "/broken" {
			w.Write([]byte("garbage"))
			return
		}
		w.Write(pic)
	}))
	t.Cleanup(srv.Close)
	c := NewCache[string](Preparer{HTTPClient: srv.Client()}, 0)
	ctx := context.Background()

	first, err := c.Prepare(ctx, "p1", Source{URI: srv.URL + "/ok"})
	require.NoError(t, err)
	again, err := c.Prepare(ctx, "p1", Source{URI: srv.URL + "/ok"})
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.EqualValues(t, 1, fetches.Load(), "a hit does not fetch again")

	for range 2 {
		_, err = c.Prepare(ctx, "p2", Source{URI: srv.URL + "/broken"})
		assert.ErrorIs(t, err, ErrInvalidImage)
	}
	assert.EqualValues(t, 2, fetches.Load(), "a broken image is remembered")

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Prepare(canceled, "p3", Source{URI: srv.URL + "/ok"})
	require.Error(t, err)
	_, err = c.Prepare(ctx, "p3", Source{URI: srv.URL + "/ok"})
	assert.NoError(t, err, "a transient failure is not remembered")
	assert.Equal(t, 3, c.Len())
}

func TestCacheIsBounded(t *testing.T) {
	data := encodePNG(t, solid(100, 100, color.RGBA{1, 2, 3, 255}))
	out, err := Preparer{}.Prepare(context.Background(), Source{Data: data})
	require.NoError(t, err)
	c := NewCache[int](Preparer{}, int64(3*(len(out)+256)))
	for i := range 10 {
		_, err := c.Prepare(context.Background(), i, Source{Data: data})
		require.NoError(t, err)
	}
	assert.Equal(t, 3, c.Len())
}

func FuzzEncode(f *testing.F) {
	f.Add(encodePNG(f, solid(3, 2, color.Black)))
	f.Add(hugePNG(1, 1<<30))
	f.Add([]byte("GIF89a"))
	f.Add([]byte{0xff, 0xd8, 0xff})
	p := Preparer{MaxSide: 16, MaxPixels: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := p.Encode(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidImage) {
				t.Fatalf("error does not wrap ErrInvalidImage: %v", err)
			}
			return
		}
		img, format, err := image.Decode(bytes.NewReader(out))
		if err != nil || format != "jpeg" {
			t.Fatalf("output is not a JPEG: %v %q", err, format)
		}
		if b := img.Bounds(); b.Dx() > 16 || b.Dy() > 16 {
			t.Fatalf("output is %v, over the max side", b)
		}
	})
}
