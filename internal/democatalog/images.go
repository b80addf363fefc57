package democatalog

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// imageSize is the side of every generated picture in pixels: enough for the
// offline image embedder, which only sees dominant colours and rough layout.
const imageSize = 48

// shape is the silhouette a product picture shows. Products of one kind share
// a shape, so their pictures differ by colour: that is what lets the image
// embedder tell a brown leather boot from an orange mesh one.
type shape int

const (
	shapeBoot     shape = iota // a tall boot, toe to the right
	shapeShoe                  // a low shoe
	shapeGarment               // a jacket or vest with sleeves
	shapeCase                  // wallets, bags, books, boxes
	shapeRound                 // watches, plates, candles from above
	shapeTent                  // a ridge tent
	shapeStrap                 // belts, cables, straps, with a buckle
	shapeCylinder              // grinders, kettles, bottles, lamps
)

// A few named colours keep the catalog readable and make the two styles
// obvious: browns, tan and black on cream for leather goods; saturated
// orange, blue and green on cool grey for technical gear.
var (
	brown     = color.RGBA{110, 66, 35, 255}
	darkBrown = color.RGBA{72, 44, 26, 255}
	tan       = color.RGBA{196, 146, 92, 255}
	cognac    = color.RGBA{154, 82, 38, 255}
	oxblood   = color.RGBA{98, 32, 36, 255}
	black     = color.RGBA{30, 28, 28, 255}
	olive     = color.RGBA{88, 92, 58, 255}
	cream     = color.RGBA{236, 226, 204, 255}

	orange    = color.RGBA{246, 118, 28, 255}
	blue      = color.RGBA{28, 118, 232, 255}
	neonGreen = color.RGBA{150, 232, 40, 255}
	red       = color.RGBA{222, 40, 52, 255}
	yellow    = color.RGBA{246, 208, 30, 255}
	teal      = color.RGBA{20, 170, 168, 255}
	charcoal  = color.RGBA{58, 64, 72, 255}
	coolGrey  = color.RGBA{214, 220, 226, 255}

	white    = color.RGBA{248, 248, 246, 255}
	steel    = color.RGBA{172, 178, 184, 255}
	copper   = color.RGBA{184, 104, 64, 255}
	navy     = color.RGBA{30, 42, 84, 255}
	sage     = color.RGBA{160, 182, 150, 255}
	blush    = color.RGBA{232, 190, 184, 255}
	mustard  = color.RGBA{204, 160, 40, 255}
	plum     = color.RGBA{100, 50, 90, 255}
	sand     = color.RGBA{226, 214, 190, 255}
	offBlack = color.RGBA{44, 46, 50, 255}
)

// productImage draws s in primary over a background of secondary, with the
// shape's details (sole, buckle, flap, door) in a darker primary, and returns
// the picture as PNG. The same arguments always give the same bytes.
func productImage(s shape, primary, secondary color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, imageSize, imageSize))
	detail := darken(primary, 0.6)
	for y := range imageSize {
		for x := range imageSize {
			// Sample the pixel's centre in [0, 1) coordinates.
			u := (float64(x) + 0.5) / imageSize
			v := (float64(y) + 0.5) / imageSize
			c := secondary
			switch paint(s, u, v) {
			case body:
				c = primary
			case trim:
				c = detail
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		// Encoding an in-memory RGBA image into a bytes.Buffer cannot fail.
		panic("democatalog: encode product image: " + err.Error())
	}
	return buf.Bytes()
}

// part says which layer of a picture a point belongs to.
type part int

const (
	background part = iota
	body
	trim
)

// paint returns the part of shape s at (u, v), both in [0, 1) with v growing
// downwards. Trim is tested first so that it sits on top of the body.
func paint(s shape, u, v float64) part {
	in := func(u0, v0, u1, v1 float64) bool { return u >= u0 && u < u1 && v >= v0 && v < v1 }
	disc := func(cu, cv, r float64) bool { return (u-cu)*(u-cu)+(v-cv)*(v-cv) < r*r }
	switch s {
	case shapeBoot:
		switch {
		case in(0.24, 0.80, 0.88, 0.88): // sole
			return trim
		case in(0.28, 0.14, 0.56, 0.80), // shaft
			in(0.28, 0.56, 0.74, 0.80), // vamp
			disc(0.74, 0.68, 0.12):     // toe
			return body
		}
	case shapeShoe:
		switch {
		case in(0.12, 0.72, 0.90, 0.80):
			return trim
		case in(0.14, 0.48, 0.42, 0.72),
			in(0.14, 0.56, 0.76, 0.72),
			disc(0.76, 0.64, 0.08):
			return body
		}
	case shapeGarment:
		switch {
		case in(0.47, 0.22, 0.53, 0.86), // zip or placket
			in(0.38, 0.16, 0.62, 0.24): // collar
			return trim
		case in(0.30, 0.20, 0.70, 0.86), // torso
			in(0.12, 0.20, 0.30, 0.66), // sleeves
			in(0.70, 0.20, 0.88, 0.66):
			return body
		}
	case shapeCase:
		switch {
		case in(0.16, 0.28, 0.84, 0.40): // flap or spine
			return trim
		case in(0.16, 0.28, 0.84, 0.76):
			return body
		}
	case shapeRound:
		switch {
		case disc(0.5, 0.5, 0.14):
			return trim
		case disc(0.5, 0.5, 0.30),
			in(0.40, 0.06, 0.60, 0.94): // strap, handle or wick
			return body
		}
	case shapeTent:
		switch {
		case v >= 0.52 && v < 0.82 && abs(u-0.5) < (v-0.52)*0.5: // door
			return trim
		case v >= 0.20 && v < 0.82 && abs(u-0.5) < (v-0.20)*0.62:
			return body
		}
	case shapeStrap:
		switch {
		case in(0.66, 0.34, 0.80, 0.66): // buckle or plug
			return trim
		case in(0.06, 0.42, 0.94, 0.58):
			return body
		}
	case shapeCylinder:
		switch {
		case in(0.32, 0.16, 0.68, 0.28): // lid or hopper
			return trim
		case in(0.36, 0.28, 0.64, 0.84):
			return body
		}
	}
	return background
}

// darken scales c's channels by f in [0, 1].
func darken(c color.RGBA, f float64) color.RGBA {
	scale := func(x uint8) uint8 { return uint8(float64(x) * f) }
	return color.RGBA{scale(c.R), scale(c.G), scale(c.B), c.A}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
