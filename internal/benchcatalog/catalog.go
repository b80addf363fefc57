// Package benchcatalog makes the synthetic catalog of the search benchmarks
// at any size: products of an outdoor shop with titles, brands, category
// paths, two attributes and descriptions of six to nine sentences drawn from
// a few dozen words, and requests of two- or three-word queries with a
// shopper's purchase history. hmpps's BenchmarkSearch (10,000 products) and
// the catalog-scale program (internal/scalebench, 100,000 and 1,000,000)
// read the same catalog, product for product. It is fixture data, not API,
// and has no dependency on hmpps, so that hmpps's own tests can use it.
package benchcatalog

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Product is one catalog product, field for field what hmpps.Product
// holds of it.
type Product struct {
	ID, Title, Brand string
	Category         []string
	Description      string
	Attributes       map[string]string
}

// Request is one search: a query and the IDs of the shopper's purchases.
type Request struct {
	Query      string
	HistoryIDs []string
}

var (
	nouns = []string{"boots", "jacket", "tent", "backpack", "sneakers", "gloves", "headlamp", "stove",
		"sleeping bag", "rain shell", "trail shoes", "fleece", "water bottle", "trekking poles", "beanie", "socks"}
	adjectives = []string{"waterproof", "lightweight", "insulated", "breathable", "durable", "packable",
		"windproof", "ultralight", "rugged", "warm", "compact", "reflective"}
	materials = []string{"leather", "nylon", "merino wool", "polyester", "down", "aluminium", "canvas",
		"recycled mesh", "Gore-Tex", "cotton"}
	colors   = []string{"black", "brown", "olive", "navy", "red", "grey", "orange", "white"}
	brands   = []string{"Heritage Co", "Summit Lab", "Northwind", "Trailhead", "Alpine Works", "Vale", "Basecamp", "Ridgeline"}
	sections = []string{"Clothing > Outerwear", "Clothing > Shoes > Boots", "Clothing > Shoes > Trail",
		"Outdoor > Camping", "Outdoor > Hiking", "Accessories > Bags", "Accessories > Lights"}
	sentences = []string{
		"Made of %[2]s with a %[1]s finish that shrugs off bad weather.",
		"The %[3]s colourway pairs well with everyday wear.",
		"Weighs only %[4]d grams, so it disappears in a pack.",
		"Tested on %[4]d km of alpine trails by our field team.",
		"Seams are taped and the zips are %[1]s, for <b>all-day</b> comfort.",
		"Fits true to size; order your usual size.",
		"Machine washable at 30 degrees; air dry away from heat.",
		"Backed by a %[5]d-year warranty against defects in materials.",
		"A %[1]s design keeps you moving from town to trailhead.",
		"Includes a stuff sack and a spare set of laces.",
	}
)

// ID returns the ID of product i.
func ID(i int) string { return fmt.Sprintf("p%05d", i) }

// NewProduct returns catalog product i, drawing from rng: the products of
// one catalog are drawn in order from one generator, seeded (1, 2) by the
// benchmarks.
func NewProduct(rng *rand.Rand, i int) Product {
	noun := nouns[rng.IntN(len(nouns))]
	adj := adjectives[rng.IntN(len(adjectives))]
	adj2 := adjectives[rng.IntN(len(adjectives))]
	material := materials[rng.IntN(len(materials))]
	color := colors[rng.IntN(len(colors))]
	var desc strings.Builder
	for _, s := range rng.Perm(len(sentences))[:6+rng.IntN(4)] {
		fmt.Fprintf(&desc, sentences[s]+" ", adj2, material, color, 200+rng.IntN(1800), 1+rng.IntN(5))
	}
	section := sections[rng.IntN(len(sections))]
	return Product{
		ID:          ID(i),
		Title:       fmt.Sprintf("%s %s %s %s", strings.ToUpper(adj[:1])+adj[1:], color, material, noun),
		Brand:       brands[rng.IntN(len(brands))],
		Category:    strings.Split(section, " > "),
		Description: desc.String(),
		Attributes:  map[string]string{"color": color, "material": material},
	}
}

// Catalog returns the first n products of the catalog.
func Catalog(n int) []Product {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]Product, n)
	for i := range out {
		out[i] = NewProduct(rng, i)
	}
	return out
}

// Requests returns count requests over a catalog of n products: queries of
// an adjective and a noun, half of them with a colour in front, each with
// the history of a different shopper, history products drawn from the
// whole catalog. The same count and n give the same requests.
func Requests(count, n, history int) []Request {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]Request, count)
	for i := range out {
		q := adjectives[rng.IntN(len(adjectives))] + " " + nouns[rng.IntN(len(nouns))]
		if rng.IntN(2) == 0 {
			q = colors[rng.IntN(len(colors))] + " " + q
		}
		ids := make([]string, history)
		for j, p := range rng.Perm(n)[:history] {
			ids[j] = ID(p)
		}
		out[i] = Request{Query: q, HistoryIDs: ids}
	}
	return out
}

// HistoryLen is the number of purchases in each request's history.
const HistoryLen = 50
