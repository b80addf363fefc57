package retrieval

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/viterin/vek/vek32"
)

var (
	testRed     = color.RGBA{220, 20, 30, 255}
	testDarkRed = color.RGBA{150, 10, 20, 255}
	testBlue    = color.RGBA{20, 40, 200, 255}
)

func solidImage(w, h int, c color.Color) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	return m
}

// splitImage paints the left half one colour and the right half another.
func splitImage(w, h int, left, right color.Color) *image.RGBA {
	m := solidImage(w, h, left)
	draw.Draw(m, image.Rect(w/2, 0, w, h), image.NewUniform(right), image.Point{}, draw.Src)
	return m
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}))
	return buf.Bytes()
}

func encodeGIF(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, gif.Encode(&buf, img, &gif.Options{NumColors: 256}))
	return buf.Bytes()
}

func embedImage(t testing.TB, data []byte) []float32 {
	t.Helper()
	v, err := ColorLayoutEmbedder{}.EmbedImage(context.Background(), data)
	require.NoError(t, err)
	require.Len(t, v, ColorLayoutDimension)
	require.NoError(t, CheckVector(v, ColorLayoutDimension))
	require.InDelta(t, 1, vek32.Norm(v), 1e-5)
	return v
}

// pngHeader returns the signature and IHDR chunk of a PNG declaring w×h
// pixels, with a valid CRC, and no pixel data.
func pngHeader(w, h uint32) []byte {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8 // bit depth
	ihdr[9] = 2 // truecolour
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr[:]...)
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestColorLayoutEmbedderDimension(t *testing.T) {
	assert.Equal(t, 84, ColorLayoutDimension)
	assert.Equal(t, ColorLayoutDimension, ColorLayoutEmbedder{}.Dimension())
}

func TestColorLayoutEmbedderSimilarities(t *testing.T) {
	red := embedImage(t, encodePNG(t, solidImage(120, 80, testRed)))
	darkRed := embedImage(t, encodePNG(t, solidImage(60, 90, testDarkRed)))
	blue := embedImage(t, encodePNG(t, solidImage(120, 80, testBlue)))
	white := embedImage(t, encodePNG(t, solidImage(50, 50, color.White)))
	black := embedImage(t, encodePNG(t, solidImage(50, 50, color.Black)))
	split := embedImage(t, encodePNG(t, splitImage(100, 100, testRed, testBlue)))
	mirror := embedImage(t, encodePNG(t, splitImage(100, 100, testBlue, testRed)))
	splitJPEG := embedImage(t, encodeJPEG(t, splitImage(100, 100, testRed, testBlue)))
	splitGIF := embedImage(t, encodeGIF(t, splitImage(100, 100, testRed, testBlue)))

	assert.Greater(t, vek32.Dot(red, darkRed), vek32.Dot(red, blue), "red is closer to dark red than to blue")
	assert.Greater(t, vek32.Dot(red, darkRed), float32(0.8))
	assert.Less(t, vek32.Dot(red, blue), float32(0.2), "unrelated colours are not near 1")
	assert.Less(t, vek32.Dot(white, black), float32(-0.3), "light and dark point apart")
	assert.Less(t, vek32.Dot(split, mirror), float32(0.7), "layout matters")
	assert.Greater(t, vek32.Dot(split, mirror), float32(0.3), "same colours still count")
	assert.Greater(t, vek32.Dot(split, splitJPEG), float32(0.98), "PNG and JPEG of one picture")
	assert.Greater(t, vek32.Dot(split, splitGIF), float32(0.98), "PNG and GIF of one picture")
}

func TestColorLayoutEmbedderWebP(t *testing.T) {
	// The fixtures are splitImage(64, 48, testRed, testBlue) encoded by
	// libwebp's encoder, losslessly and lossily at quality 90.
	want := embedImage(t, encodePNG(t, splitImage(64, 48, testRed, testBlue)))
	for _, name := range []string{"split-red-blue.lossless.webp", "split-red-blue.lossy.webp"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name))
			require.NoError(t, err)
			assert.Greater(t, vek32.Dot(want, embedImage(t, data)), float32(0.98))

			_, err = ColorLayoutEmbedder{}.EmbedImage(context.Background(), data[:len(data)-8])
			require.ErrorIs(t, err, ErrInvalidImage, "truncated")
		})
	}
}

func TestColorLayoutEmbedderDeterministicAndSizeIndependent(t *testing.T) {
	small := embedImage(t, encodePNG(t, splitImage(8, 8, testRed, testBlue)))
	again := embedImage(t, encodePNG(t, splitImage(8, 8, testRed, testBlue)))
	large := embedImage(t, encodePNG(t, splitImage(1000, 1000, testRed, testBlue)))
	assert.Equal(t, small, again)
	assert.Greater(t, vek32.Dot(small, large), float32(0.999))

	// A 1×1 image fills the grid by repetition.
	dot := embedImage(t, encodePNG(t, solidImage(1, 1, testRed)))
	red := embedImage(t, encodePNG(t, solidImage(64, 64, testRed)))
	assert.InDelta(t, 1, vek32.Dot(dot, red), 1e-5)
}

func TestColorLayoutEmbedderTransparencyIsWhite(t *testing.T) {
	transparent := image.NewNRGBA(image.Rect(0, 0, 40, 40)) // all alpha 0
	white := embedImage(t, encodePNG(t, solidImage(40, 40, color.White)))
	assert.InDelta(t, 1, vek32.Dot(embedImage(t, encodePNG(t, transparent)), white), 1e-5)

	half := image.NewNRGBA(image.Rect(0, 0, 40, 40))
	draw.Draw(half, half.Bounds(), image.NewUniform(color.NRGBA{220, 20, 30, 128}), image.Point{}, draw.Src)
	pink := solidImage(40, 40, color.RGBA{237, 137, 142, 255}) // the same colour over white
	assert.Greater(t, vek32.Dot(embedImage(t, encodePNG(t, half)), embedImage(t, encodePNG(t, pink))), float32(0.99))
}

func TestColorLayoutEmbedderPixelFormats(t *testing.T) {
	// Each decoder output type goes through its own pixel reader; all must
	// agree with the generic path on the same picture.
	src := splitImage(32, 32, testRed, testBlue)
	want := embedImage(t, encodePNG(t, src))
	gray := image.NewGray(src.Bounds())
	draw.Draw(gray, gray.Bounds(), src, image.Point{}, draw.Src)
	rgba64 := image.NewRGBA64(src.Bounds())
	draw.Draw(rgba64, rgba64.Bounds(), src, image.Point{}, draw.Src)
	paletted := image.NewPaletted(src.Bounds(), palette.Plan9)
	draw.Draw(paletted, paletted.Bounds(), src, image.Point{}, draw.Src)

	assert.Greater(t, vek32.Dot(want, embedImage(t, encodePNG(t, rgba64))), float32(0.999), "16-bit PNG")
	assert.Greater(t, vek32.Dot(want, embedImage(t, encodePNG(t, paletted))), float32(0.98), "paletted PNG")
	grayV := embedImage(t, encodePNG(t, gray))
	assert.Less(t, vek32.Dot(want, grayV), float32(0.8), "grey loses the colour")
	grayJPEG := embedImage(t, encodeJPEG(t, gray))
	assert.Greater(t, vek32.Dot(grayV, grayJPEG), float32(0.98), "grey JPEG")
}

func TestColorLayoutEmbedderInvalid(t *testing.T) {
	valid := encodePNG(t, solidImage(10, 10, testRed))
	tests := []struct {
		name string
		e    ColorLayoutEmbedder
		data []byte
		want error
	}{
		{"nil", ColorLayoutEmbedder{}, nil, ErrInvalidImage},
		{"empty", ColorLayoutEmbedder{}, []byte{}, ErrInvalidImage},
		{"not an image", ColorLayoutEmbedder{}, []byte("hello, world"), ErrInvalidImage},
		{"truncated PNG", ColorLayoutEmbedder{}, valid[:len(valid)/2], ErrInvalidImage},
		{"header only", ColorLayoutEmbedder{}, pngHeader(10, 10), ErrInvalidImage},
		{"huge declared size", ColorLayoutEmbedder{}, pngHeader(100_000, 100_000), ErrInvalidImage},
		{"just over the default limit", ColorLayoutEmbedder{}, pngHeader(40_000_001, 1), ErrInvalidImage},
		{"zero width", ColorLayoutEmbedder{}, pngHeader(0, 10), ErrInvalidImage},
		{"over a custom limit", ColorLayoutEmbedder{MaxPixels: 99}, valid, ErrInvalidImage},
		{"negative limit", ColorLayoutEmbedder{MaxPixels: -1}, valid, ErrInvalidConfig},
		{"truncated JPEG", ColorLayoutEmbedder{}, encodeJPEG(t, solidImage(64, 64, testRed))[:300], ErrInvalidImage},
		{"truncated GIF", ColorLayoutEmbedder{}, encodeGIF(t, solidImage(64, 64, testRed))[:40], ErrInvalidImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			v, err := tt.e.EmbedImage(context.Background(), tt.data)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, v)
			assert.Less(t, time.Since(start), time.Second, "rejected from the header, before decoding")
		})
	}

	v, err := ColorLayoutEmbedder{MaxPixels: 100}.EmbedImage(context.Background(), valid)
	require.NoError(t, err, "exactly at the limit is allowed")
	assert.Len(t, v, ColorLayoutDimension)
}

func TestColorLayoutEmbedderCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ColorLayoutEmbedder{}.EmbedImage(ctx, encodePNG(t, solidImage(4, 4, testRed)))
	require.ErrorIs(t, err, context.Canceled)
}

func TestColorLayoutEmbedderConcurrent(t *testing.T) {
	data := encodeJPEG(t, splitImage(64, 64, testRed, testBlue))
	want := embedImage(t, data)
	var e ImageEmbedder = ColorLayoutEmbedder{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				v, err := e.EmbedImage(context.Background(), data)
				if assert.NoError(t, err) {
					assert.Equal(t, want, v)
				}
			}
		}()
	}
	wg.Wait()
}

func TestColourBin(t *testing.T) {
	tests := []struct {
		name    string
		r, g, b uint8
		want    int
	}{
		{"black", 0, 0, 0, 0},
		{"dark red reads black", 40, 0, 0, 0},
		{"mid grey", 128, 128, 128, 2},
		{"white", 255, 255, 255, 3},
		{"pure red, saturated, bright", 255, 0, 0, greyBins + (0*satBins+1)*valBins + 1},
		{"slightly purple red stays red", 255, 0, 40, greyBins + (0*satBins+1)*valBins + 1},
		{"pure green", 0, 255, 0, greyBins + (3*satBins+1)*valBins + 1},
		{"pure blue", 0, 0, 255, greyBins + (5*satBins+1)*valBins + 1},
		{"pale blue", 150, 150, 255, greyBins + (5*satBins+0)*valBins + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, colourBin(tt.r, tt.g, tt.b))
		})
	}
	for r := 0; r < 256; r += 5 {
		for g := 0; g < 256; g += 5 {
			for b := 0; b < 256; b += 5 {
				bin := colourBin(uint8(r), uint8(g), uint8(b))
				require.True(t, bin >= 0 && bin < colourDims, "bin %d for %d,%d,%d", bin, r, g, b)
			}
		}
	}
}

func TestSRGBToLab(t *testing.T) {
	l, a, b := srgbToLab(255, 255, 255)
	assert.InDelta(t, 100, l, 0.01)
	assert.InDelta(t, 0, a, 0.01)
	assert.InDelta(t, 0, b, 0.01)
	l, _, _ = srgbToLab(0, 0, 0)
	assert.InDelta(t, 0, l, 0.01)
	l, a, b = srgbToLab(255, 0, 0) // reference: 53.24, 80.09, 67.20
	assert.InDelta(t, 53.24, l, 0.05)
	assert.InDelta(t, 80.09, a, 0.05)
	assert.InDelta(t, 67.20, b, 0.05)
}

func FuzzColorLayoutEmbedder(f *testing.F) {
	f.Add(encodePNG(f, splitImage(6, 5, testRed, testBlue)))
	f.Add(encodePNG(f, image.NewNRGBA(image.Rect(0, 0, 3, 3))))
	f.Add(encodeJPEG(f, splitImage(9, 7, testRed, testBlue)))
	f.Add(encodeGIF(f, splitImage(5, 5, testRed, testBlue)))
	f.Add(pngHeader(1<<20, 1<<20))
	for _, name := range []string{"split-red-blue.lossless.webp", "split-red-blue.lossy.webp"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte("GIF89a"))
	f.Add([]byte{0xff, 0xd8, 0xff})
	// A small limit keeps each run fast: what matters is never panicking.
	e := ColorLayoutEmbedder{MaxPixels: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := e.EmbedImage(context.Background(), data)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidImage)
			require.Nil(t, v)
			return
		}
		require.NoError(t, CheckVector(v, ColorLayoutDimension))
		if n := vek32.Norm(v); math.Abs(float64(n)-1) > 1e-4 {
			t.Fatalf("norm %v", n)
		}
	})
}

func BenchmarkColorLayoutEmbedder(b *testing.B) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"256x256", 256, 256}, {"1000x1000", 1000, 1000}} {
		img := splitImage(size.w, size.h, testRed, testBlue)
		for _, enc := range []struct {
			name string
			data []byte
		}{{"png", encodePNG(b, img)}, {"jpeg", encodeJPEG(b, img)}} {
			b.Run(size.name+"/"+enc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := (ColorLayoutEmbedder{}).EmbedImage(context.Background(), enc.data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
