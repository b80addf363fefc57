package hmpps

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/stretchr/testify/require"
)

// solidPNG returns a small PNG of one colour, enough for the colour-layout
// embedder to tell products apart by colour.
func solidPNG(c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

var (
	brown = color.RGBA{120, 72, 30, 255}
	neon  = color.RGBA{40, 220, 90, 255}
	grey  = color.RGBA{128, 128, 128, 255}
)

// testCatalog has two styles of boots that match "waterproof boots" about
// equally, and history items that pull toward one style or the other.
func testCatalog() []Product {
	p := func(id, title, brand string, cat []string, desc string, c color.RGBA) Product {
		return Product{ID: id, Title: title, Brand: brand, Category: cat, Description: desc,
			Attributes: map[string]string{"style": id[:4]}, Images: []Image{{Data: solidPNG(c)}}}
	}
	boots := []string{"Shoes", "Boots"}
	return []Product{
		p("boot-leather-1", "Classic Leather Waterproof Boots", "Heritage Co", boots,
			"Full-grain brown leather boots. <b>Waterproof</b> waxed leather upper with a Goodyear welt. Classic style.", brown),
		p("boot-leather-2", "Waxed Leather Work Boots", "Heritage Co", boots,
			"Oiled brown leather, waterproof membrane, classic moc toe. Built to be resoled.", brown),
		p("boot-trail-1", "Lightweight Trail Waterproof Boots", "Summit Lab", boots,
			"Breathable synthetic mesh trail boots with a waterproof membrane. Lightweight and fast for hiking.", neon),
		p("boot-trail-2", "Ultralight Hiking Boots", "Summit Lab", boots,
			"Synthetic ultralight trail boots, waterproof and breathable, with an aggressive lug sole for hiking.", neon),
		p("hist-wallet", "Leather Bifold Wallet", "Heritage Co", []string{"Accessories", "Wallets"},
			"Classic brown full-grain leather wallet, waxed edges.", brown),
		p("hist-belt", "Waxed Leather Belt", "Heritage Co", []string{"Accessories", "Belts"},
			"Brown waxed leather belt with a classic brass buckle.", brown),
		p("hist-dressing", "Leather Boot Dressing", "Heritage Co", []string{"Shoes", "Care"},
			"Classic waterproof wax for full-grain leather boots. Keeps brown leather supple.", brown),
		p("hist-gaiters", "Waterproof Trail Gaiters", "Summit Lab", []string{"Sports", "Hiking"},
			"Lightweight breathable waterproof gaiters that keep trail grit out of your boots. Synthetic and ultralight.", neon),
		p("hist-tent", "Ultralight Waterproof Trail Tent", "Summit Lab", []string{"Sports", "Camping"},
			"Ultralight synthetic waterproof trail tent, lightweight and fast to pitch, for hiking.", neon),
		p("hist-grinder", "Burr Coffee Grinder", "Kitchen Pro", []string{"Kitchen", "Coffee"},
			"Conical burr grinder for espresso and pour-over coffee beans.", grey),
		p("hist-novel", "A Quiet Novel", "Paper House", []string{"Books", "Fiction"},
			"A literary novel about a family by the sea.", grey),
	}
}

var (
	leatherFan = []string{"hist-wallet", "hist-dressing", "hist-belt", "hist-grinder", "hist-novel"}
	trailFan   = []string{"hist-gaiters", "hist-tent", "hist-grinder", "hist-novel"}
)

// newTestEngine returns an engine holding testCatalog, closed at test end.
func newTestEngine(t testing.TB, opts ...Option) *Engine {
	t.Helper()
	e, err := New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	require.NoError(t, e.Upsert(context.Background(), testCatalog()...))
	return e
}

func ids(rs []Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}
