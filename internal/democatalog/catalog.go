// Package democatalog is the demo catalog the examples share: about fifty
// products of a general store, each with a small generated picture, and two
// shoppers whose purchase histories pull the query "waterproof boots"
// towards different styles. It is fixture data, not API.
package democatalog

import (
	"image/color"
	"slices"

	"hmpps/hmpps"
)

// DefaultQuery is the query the demo is built around.
const DefaultQuery = "waterproof boots"

// Shopper is a demo user: what to call them and what they bought before.
type Shopper struct {
	// Name heads the shopper's column.
	Name string
	// Taste says in a few words what their history is about.
	Taste string
	// HistoryIDs are catalog products they bought, oldest first. Each
	// history mixes purchases that say something about the query with ones
	// that do not (a grinder, a novel), which stage one should set aside.
	HistoryIDs []string
}

// Shoppers returns the two users the demo compares. They search for the same
// thing; only their histories differ.
func Shoppers() [2]Shopper {
	return [2]Shopper{
		{
			Name:       "Alex",
			Taste:      "classic leather goods",
			HistoryIDs: []string{"acc-01", "book-01", "acc-02", "shoe-01", "kit-01", "coat-01", "acc-04", "acc-05"},
		},
		{
			Name:       "Sam",
			Taste:      "trail running, ultralight hiking",
			HistoryIDs: []string{"run-01", "kit-02", "run-03", "camp-01", "book-06", "run-04", "hike-01", "coat-02"},
		},
	}
}

// Products returns the demo catalog: about fifty products over six top-level
// categories. Its heart is twelve waterproof boots in two styles that match
// "waterproof boots" about equally well: six heritage boots (full-grain
// leather, Goodyear welts, brown and black) and six technical boots
// (synthetic mesh, lightweight, bright colours). The rest is what a general
// store sells, including the purchases of the two shoppers.
//
// The offline embedders are lexical and colour-based, so the styles are told
// apart the way a shopper would describe them: leather, waxed, classic,
// welted, brown versus trail, lightweight, breathable, mesh, synthetic; and
// by the colours of the pictures.
func Products() []hmpps.Product {
	return []hmpps.Product{
		// Heritage leather boots.
		{
			ID:       "boot-01",
			Title:    "Heritage Waterproof Leather Boots",
			Brand:    "Thornbury",
			Category: []string{"Footwear", "Boots", "Work & Heritage"},
			Description: "<b>Built to be resoled for decades.</b><ul><li>Full-grain brown leather, oiled by hand</li>" +
				"<li>Goodyear-welted leather midsole</li><li>Waterproof leather lining and gusseted tongue</li>" +
				"<li>A classic plain-toe pattern that darkens with wear</li></ul>",
			Attributes: map[string]string{"color": "brown", "material": "full-grain leather", "sole": "leather"},
			Images:     pic(shapeBoot, brown, cream),
		},
		{
			ID:       "boot-02",
			Title:    "Moc-Toe Waterproof Work Boots",
			Brand:    "Hallam & Webb",
			Category: []string{"Footwear", "Boots", "Work & Heritage"},
			Description: "The classic moc-toe work boot in tan oil-tanned leather. Hand-stitched and Goodyear " +
				"welted, so it can be resoled again and again.<br>A waterproof leather lining sits under the " +
				"full-grain upper.",
			Attributes: map[string]string{"color": "tan", "material": "oil-tanned leather", "sole": "wedge"},
			Images:     pic(shapeBoot, tan, cream),
		},
		{
			ID:       "boot-03",
			Title:    "Waterproof Leather Chelsea Boots",
			Brand:    "Thornbury",
			Category: []string{"Footwear", "Boots", "Work & Heritage"},
			Description: "Sleek black calf leather Chelsea boots with elastic gussets and a heel pull tab. " +
				"Waterproof-treated full-grain leather and a storm welt see off city rain.<br>" +
				"Goodyear welted for a lifetime of resoling.",
			Attributes: map[string]string{"color": "black", "material": "calf leather", "sole": "leather"},
			Images:     pic(shapeBoot, black, cream),
		},
		{
			ID:       "boot-04",
			Title:    "Waterproof Waxed Country Boots",
			Brand:    "Ashcombe",
			Category: []string{"Footwear", "Boots", "Work & Heritage"},
			Description: "Country boots in dark brown waxed leather, cut high for wet fields and muddy lanes. " +
				"Natural wax over a waterproof leather lining; brass eyelets &amp; leather laces.<br>" +
				"A classic commando sole, Goodyear welted.",
			Attributes: map[string]string{"color": "dark brown", "material": "waxed leather", "sole": "commando rubber"},
			Images:     pic(shapeBoot, darkBrown, cream),
		},
		{
			ID:       "boot-05",
			Title:    "Waterproof Suede Chukka Boots",
			Brand:    "Hallam & Webb",
			Category: []string{"Footwear", "Boots", "Work & Heritage"},
			Description: "Two-eyelet chukka boots in cognac waxed suede on a natural crepe sole. The suede is " +
				"treated to be waterproof, so a wet commute won't mark it.<br>A classic from our 1950s " +
				"pattern books, Goodyear welted by hand.",
			Attributes: map[string]string{"color": "cognac", "material": "waxed suede", "sole": "crepe"},
			Images:     pic(shapeBoot, cognac, cream),
		},
		{
			ID:       "boot-06",
			Title:    "Waterproof Leather Service Boots",
			Brand:    "Oldfield",
			Category: []string{"Footwear", "Boots", "Work & Heritage"},
			Description: "Service boots in polished oxblood leather with a cap toe, after a classic military " +
				"pattern. A waterproof full-grain leather upper, Goodyear welt &amp; stacked leather heel.<br>" +
				"Break them in once and wear them for years.",
			Attributes: map[string]string{"color": "oxblood", "material": "full-grain leather", "sole": "leather"},
			Images:     pic(shapeBoot, oxblood, cream),
		},

		// Technical hiking boots.
		{
			ID:       "boot-07",
			Title:    "Lightweight Waterproof Hiking Boots",
			Brand:    "Ridgeline",
			Category: []string{"Footwear", "Boots", "Hiking & Trail"},
			Description: "<b>Only 390 g per boot.</b><ul><li>Breathable synthetic mesh upper</li>" +
				"<li>Waterproof membrane</li><li>Grippy lugged trail outsole</li>" +
				"<li>Cushioned foam midsole for rocky descents</li></ul>",
			Attributes: map[string]string{"color": "orange", "material": "synthetic mesh", "sole": "lugged rubber"},
			Images:     pic(shapeBoot, orange, coolGrey),
		},
		{
			ID:       "boot-08",
			Title:    "Waterproof Trail Mid Boots",
			Brand:    "Kestrel",
			Category: []string{"Footwear", "Boots", "Hiking & Trail"},
			Description: "Mid-cut trail boots for fast days in the hills. A lightweight synthetic upper, a " +
				"waterproof breathable membrane and a sticky outsole with 5 mm lugs.<br>Quick-pull laces " +
				"&amp; a gusseted tongue keep grit out.",
			Attributes: map[string]string{"color": "blue", "material": "synthetic", "sole": "lugged rubber"},
			Images:     pic(shapeBoot, blue, coolGrey),
		},
		{
			ID:       "boot-09",
			Title:    "Waterproof Fastpacking Boots",
			Brand:    "Summit Lite",
			Category: []string{"Footwear", "Boots", "Hiking & Trail"},
			Description: "Ultralight boots for fastpacking and long trail days, under 350 g each. A seamless " +
				"synthetic mesh upper wraps a waterproof membrane; a rock plate protects underfoot.<br>" +
				"Neon green, so your partner can spot you.",
			Attributes: map[string]string{"color": "neon green", "material": "synthetic mesh", "sole": "lugged rubber"},
			Images:     pic(shapeBoot, neonGreen, coolGrey),
		},
		{
			ID:       "boot-10",
			Title:    "Breathable Waterproof Trail Boots",
			Brand:    "Ridgeline",
			Category: []string{"Footwear", "Boots", "Hiking & Trail"},
			Description: "A breathable, waterproof trail boot with a synthetic mesh upper and welded overlays. " +
				"The lightweight foam midsole and grippy lugs are tuned for running-style hiking on " +
				"technical terrain.",
			Attributes: map[string]string{"color": "red", "material": "synthetic mesh", "sole": "lugged rubber"},
			Images:     pic(shapeBoot, red, coolGrey),
		},
		{
			ID:       "boot-11",
			Title:    "Waterproof Alpine Approach Boots",
			Brand:    "Vektor",
			Category: []string{"Footwear", "Boots", "Hiking & Trail"},
			Description: "Approach boots with a sticky rubber toe rand, a lightweight synthetic upper and a " +
				"waterproof breathable lining. A lace-to-toe fit for scrambles &amp; long trail miles.",
			Attributes: map[string]string{"color": "yellow", "material": "synthetic", "sole": "climbing rubber"},
			Images:     pic(shapeBoot, yellow, coolGrey),
		},
		{
			ID:       "boot-12",
			Title:    "Waterproof Mesh Hiking Boots",
			Brand:    "Kestrel",
			Category: []string{"Footwear", "Boots", "Hiking & Trail"},
			Description: "Breathable mesh hiking boots with a waterproof membrane, a lightweight nylon shank " +
				"and a grippy trail outsole.<br>Quick-drying synthetic materials for river crossings.",
			Attributes: map[string]string{"color": "teal", "material": "synthetic mesh", "sole": "lugged rubber"},
			Images:     pic(shapeBoot, teal, coolGrey),
		},

		// Shoes.
		{
			ID:       "shoe-01",
			Title:    "Brown Leather Derby Shoes",
			Brand:    "Hallam & Webb",
			Category: []string{"Footwear", "Shoes", "Dress Shoes"},
			Description: "Classic brown leather derby shoes, Goodyear welted and hand-stitched in the workshop " +
				"that makes our heritage boots.<br>Water-resistant waxed calf leather on a leather sole, " +
				"resoleable for years.",
			Attributes: map[string]string{"color": "brown", "material": "calf leather", "sole": "leather"},
			Images:     pic(shapeShoe, brown, cream),
		},
		{
			ID:       "shoe-02",
			Title:    "Black Leather Oxford Shoes",
			Brand:    "Oldfield",
			Category: []string{"Footwear", "Shoes", "Dress Shoes"},
			Description: "Cap-toe oxfords in black box-calf leather for the office and for weddings. " +
				"A leather sole with a rubber heel insert and a slim, classic last.",
			Attributes: map[string]string{"color": "black", "material": "box calf leather", "sole": "leather"},
			Images:     pic(shapeShoe, black, cream),
		},
		{
			ID:       "run-01",
			Title:    "Trail Running Shoes",
			Brand:    "Ridgeline",
			Category: []string{"Footwear", "Running Shoes", "Trail"},
			Description: "Lightweight trail running shoes with a breathable synthetic mesh upper, a rock plate " +
				"and grippy 4 mm lugs.<br>The outsole of our hiking boots in a 270 g shoe. Not waterproof " +
				"on purpose: it drains and dries fast.",
			Attributes: map[string]string{"color": "orange", "material": "synthetic mesh", "sole": "lugged rubber"},
			Images:     pic(shapeShoe, orange, coolGrey),
		},
		{
			ID:       "run-02",
			Title:    "Cushioned Road Running Shoes",
			Brand:    "Kestrel",
			Category: []string{"Footwear", "Running Shoes", "Road"},
			Description: "Plush foam and a rockered sole for easy miles on the road. " +
				"An engineered knit upper hugs the foot without pressure points.",
			Attributes: map[string]string{"color": "blue", "material": "knit", "sole": "foam"},
			Images:     pic(shapeShoe, blue, white),
		},

		// Clothing and leather goods.
		{
			ID:       "acc-01",
			Title:    "Full-Grain Leather Wallet",
			Brand:    "Thornbury",
			Category: []string{"Clothing & Accessories", "Leather Goods", "Wallets"},
			Description: "A slim bifold in full-grain brown leather, cut from the same oiled, water-resistant " +
				"hides as our heritage boots.<br>Six card slots, hand-stitched edges and a classic shape that takes on " +
				"a patina.",
			Attributes: map[string]string{"color": "brown", "material": "full-grain leather"},
			Images:     pic(shapeCase, brown, cream),
		},
		{
			ID:       "acc-02",
			Title:    "Classic Brown Leather Belt",
			Brand:    "Thornbury",
			Category: []string{"Clothing & Accessories", "Leather Goods", "Belts"},
			Description: "A classic 35 mm belt in full-grain brown leather with a solid brass buckle. Cut from " +
				"boot-weight leather with waxed edges, to wear with our heritage boots.",
			Attributes: map[string]string{"color": "brown", "material": "full-grain leather"},
			Images:     pic(shapeStrap, darkBrown, cream),
		},
		{
			ID:       "acc-03",
			Title:    "Leather Messenger Bag",
			Brand:    "Ashcombe",
			Category: []string{"Clothing & Accessories", "Leather Goods", "Bags"},
			Description: "A tan bridle leather messenger bag with a padded laptop sleeve and brass fittings. " +
				"Sized for a 14-inch laptop, a notebook and lunch.",
			Attributes: map[string]string{"color": "tan", "material": "bridle leather"},
			Images:     pic(shapeCase, tan, cream),
		},
		{
			ID:       "acc-04",
			Title:    "Beeswax Leather Boot Dressing",
			Brand:    "Thornbury",
			Category: []string{"Clothing & Accessories", "Shoe Care", "Leather Care"},
			Description: "Beeswax dressing that feeds full-grain leather and keeps boots waterproof. " +
				"Work it in, leave it overnight, then buff to a classic shine.",
			Attributes: map[string]string{"color": "natural", "size": "100 ml"},
			Images:     pic(shapeRound, tan, cream),
		},
		{
			ID:       "acc-05",
			Title:    "Cedar Boot Trees",
			Brand:    "Thornbury",
			Category: []string{"Clothing & Accessories", "Shoe Care", "Boot Trees"},
			Description: "Red cedar boot trees that hold the shape of leather boots and draw out the damp after " +
				"a wet day.<br>Sized to fit our heritage boots, with a classic brass knob.",
			Attributes: map[string]string{"color": "natural cedar", "material": "red cedar"},
			Images:     pic(shapeBoot, cognac, cream),
		},
		{
			ID:       "coat-01",
			Title:    "Waxed Cotton Field Jacket",
			Brand:    "Ashcombe",
			Category: []string{"Clothing & Accessories", "Outerwear", "Jackets"},
			Description: "A classic field jacket in olive waxed cotton with a brown leather collar and brass " +
				"snaps. The wax keeps it waterproof, season after season.<br>Made for wet country walks in " +
				"leather boots.",
			Attributes: map[string]string{"color": "olive", "material": "waxed cotton"},
			Images:     pic(shapeGarment, olive, cream),
		},
		{
			ID:       "coat-02",
			Title:    "Packable Waterproof Rain Jacket",
			Brand:    "Kestrel",
			Category: []string{"Clothing & Accessories", "Outerwear", "Rain Jackets"},
			Description: "A 180 g waterproof, breathable shell that packs into its own pocket. " +
				"Taped seams, a stiffened hood peak and pit zips for steep climbs.",
			Attributes: map[string]string{"color": "yellow", "material": "nylon ripstop"},
			Images:     pic(shapeGarment, yellow, coolGrey),
		},
		{
			ID:       "coat-03",
			Title:    "Merino Wool Crew Jumper",
			Brand:    "Ashcombe",
			Category: []string{"Clothing & Accessories", "Knitwear", "Jumpers"},
			Description: "A fine-gauge merino crew neck in navy. Soft enough to wear next to skin, " +
				"warm enough for autumn without a coat.",
			Attributes: map[string]string{"color": "navy", "material": "merino wool"},
			Images:     pic(shapeGarment, navy, white),
		},

		// Outdoor and running gear.
		{
			ID:       "run-03",
			Title:    "Trail Running Vest 12 L",
			Brand:    "Kestrel",
			Category: []string{"Outdoor & Running", "Running", "Hydration Vests"},
			Description: "A lightweight 12-litre vest for long trail runs: a breathable mesh harness, two soft " +
				"flasks up front &amp; a stretch pocket for a waterproof jacket.",
			Attributes: map[string]string{"color": "blue", "material": "synthetic mesh"},
			Images:     pic(shapeGarment, blue, coolGrey),
		},
		{
			ID:       "run-04",
			Title:    "GPS Trail Running Watch",
			Brand:    "Vektor",
			Category: []string{"Outdoor & Running", "Electronics", "GPS Watches"},
			Description: "A lightweight GPS watch with trail running and hiking modes, breadcrumb navigation " +
				"and a 40-hour battery.<br>Waterproof to 50 m, on a breathable synthetic strap.",
			Attributes: map[string]string{"color": "orange", "material": "synthetic"},
			Images:     pic(shapeRound, orange, coolGrey),
		},
		{
			ID:       "camp-01",
			Title:    "Ultralight One-Person Tent",
			Brand:    "Summit Lite",
			Category: []string{"Outdoor & Running", "Camping", "Tents"},
			Description: "A 690 g ultralight tent that pitches with trekking poles. A waterproof synthetic fly " +
				"and a breathable mesh inner.<br>Packs down to the size of a water bottle.",
			Attributes: map[string]string{"color": "neon green", "material": "synthetic silnylon"},
			Images:     pic(shapeTent, neonGreen, coolGrey),
		},
		{
			ID:       "camp-02",
			Title:    "Ultralight Down Sleeping Bag",
			Brand:    "Summit Lite",
			Category: []string{"Outdoor & Running", "Camping", "Sleeping Bags"},
			Description: "A 600 g down sleeping bag comfortable to 2 °C. The synthetic shell resists damp " +
				"and the mummy cut saves weight.",
			Attributes: map[string]string{"color": "teal", "material": "down, nylon"},
			Images:     pic(shapeCase, teal, coolGrey),
		},
		{
			ID:       "hike-03",
			Title:    "Carbon Trekking Poles",
			Brand:    "Vektor",
			Category: []string{"Outdoor & Running", "Hiking", "Trekking Poles"},
			Description: "Folding carbon poles at 160 g each, with foam grips and quick-lock length adjustment. " +
				"They double as the poles of a trekking-pole tent.",
			Attributes: map[string]string{"color": "red", "material": "carbon"},
			Images:     pic(shapeStrap, red, coolGrey),
		},
		{
			ID:       "camp-04",
			Title:    "Rechargeable Headlamp 400 lm",
			Brand:    "Kestrel",
			Category: []string{"Outdoor & Running", "Electronics", "Headlamps"},
			Description: "A 400-lumen headlamp with a red night mode and a USB-C rechargeable battery. " +
				"It weighs 58 g and lasts a long winter night on low.",
			Attributes: map[string]string{"color": "yellow", "material": "plastic"},
			Images:     pic(shapeRound, yellow, coolGrey),
		},
		{
			ID:       "camp-05",
			Title:    "Insulated Steel Water Bottle 750 ml",
			Brand:    "Summit Lite",
			Category: []string{"Outdoor & Running", "Camping", "Bottles"},
			Description: "Double-walled stainless steel keeps drinks cold for a day or hot through a morning. " +
				"A leak-proof lid with a carry loop.",
			Attributes: map[string]string{"color": "steel", "material": "stainless steel"},
			Images:     pic(shapeCylinder, steel, coolGrey),
		},
		{
			ID:       "hike-01",
			Title:    "Waterproof Trail Gaiters",
			Brand:    "Kestrel",
			Category: []string{"Outdoor & Running", "Hiking", "Gaiters"},
			Description: "Lightweight, breathable gaiters that keep grit, snow and water out of trail shoes and " +
				"boots. Waterproof synthetic fabric with a quick-release hook.",
			Attributes: map[string]string{"color": "teal", "material": "synthetic"},
			Images:     pic(shapeGarment, teal, coolGrey),
		},

		{
			ID:       "hike-02",
			Title:    "Merino Hiking Socks",
			Brand:    "Summit Lite",
			Category: []string{"Outdoor & Running", "Hiking", "Socks"},
			Description: "Lightweight merino socks for trail shoes and hiking boots, with breathable mesh zones " +
				"and a cushioned heel. Quick-drying and blister-free over long trail days.",
			Attributes: map[string]string{"color": "orange", "material": "merino, synthetic"},
			Images:     pic(shapeShoe, orange, coolGrey),
		},

		// Kitchen and coffee.
		{
			ID:       "kit-01",
			Title:    "Conical Burr Coffee Grinder",
			Brand:    "Hearthside",
			Category: []string{"Kitchen & Coffee", "Coffee", "Grinders"},
			Description: "A conical steel burr grinder with 40 settings, from espresso to French press. " +
				"A slow motor keeps the beans cool &amp; the kitchen quiet.<br>The hopper holds 250 g of beans.",
			Attributes: map[string]string{"color": "matte black", "material": "steel"},
			Images:     pic(shapeCylinder, offBlack, white),
		},
		{
			ID:       "kit-02",
			Title:    "Gooseneck Pour-Over Kettle",
			Brand:    "Hearthside",
			Category: []string{"Kitchen & Coffee", "Coffee", "Kettles"},
			Description: "An electric gooseneck kettle with temperature control to the degree and a one-hour hold. " +
				"The slim spout gives a steady, slow pour for filter coffee.",
			Attributes: map[string]string{"color": "matte white", "material": "stainless steel"},
			Images:     pic(shapeCylinder, white, steel),
		},
		{
			ID:       "kit-03",
			Title:    "Glass French Press, 1 L",
			Brand:    "Hearthside",
			Category: []string{"Kitchen & Coffee", "Coffee", "Brewers"},
			Description: "A borosilicate glass French press with a four-layer steel filter. " +
				"Brews eight cups of full-bodied coffee in four minutes.",
			Attributes: map[string]string{"color": "clear", "material": "glass, steel"},
			Images:     pic(shapeCylinder, steel, white),
		},
		{
			ID:       "kit-04",
			Title:    "Stovetop Espresso Maker",
			Brand:    "Casa Moka",
			Category: []string{"Kitchen & Coffee", "Coffee", "Brewers"},
			Description: "The eight-sided aluminium pot that makes strong coffee on any hob. " +
				"Six-cup size with a heat-proof handle.",
			Attributes: map[string]string{"color": "silver", "material": "aluminium"},
			Images:     pic(shapeCylinder, steel, sand),
		},
		{
			ID:       "kit-05",
			Title:    "Pre-Seasoned Cast Iron Skillet 26 cm",
			Brand:    "Ironhearth",
			Category: []string{"Kitchen & Coffee", "Cookware", "Pans"},
			Description: "A heavy cast iron pan, seasoned with oil and ready to sear. " +
				"It goes from hob to oven to table &amp; lasts for generations.",
			Attributes: map[string]string{"color": "black", "material": "cast iron"},
			Images:     pic(shapeRound, offBlack, white),
		},
		{
			ID:       "kit-06",
			Title:    "Chef's Knife 20 cm",
			Brand:    "Ironhearth",
			Category: []string{"Kitchen & Coffee", "Cookware", "Knives"},
			Description: "A forged chef's knife with a full tang and a walnut handle. " +
				"The high-carbon blade takes a keen edge and is easy to sharpen.",
			Attributes: map[string]string{"color": "walnut", "material": "carbon steel"},
			Images:     pic(shapeStrap, steel, white),
		},
		{
			ID:       "kit-07",
			Title:    "Stoneware Espresso Cups, Set of 4",
			Brand:    "Casa Moka",
			Category: []string{"Kitchen & Coffee", "Tableware", "Cups"},
			Description: "Hand-glazed stoneware cups that hold a double shot. " +
				"Dishwasher safe, in four speckled glazes.",
			Attributes: map[string]string{"color": "speckled white", "material": "stoneware"},
			Images:     pic(shapeRound, sand, white),
		},

		// Books.
		{
			ID:       "book-01",
			Title:    "The Salt Orchard: A Novel",
			Brand:    "Penfold Press",
			Category: []string{"Books", "Fiction", "Literary Fiction"},
			Description: "Three generations of apple growers on a windswept coast, and the summer a stranger " +
				"arrives with a claim to the land. <i>A quiet, luminous debut.</i>",
			Attributes: map[string]string{"format": "hardcover", "pages": "352"},
			Images:     pic(shapeCase, sage, white),
		},
		{
			ID:       "book-02",
			Title:    "Signal Lost: A Thriller",
			Brand:    "Harbour Books",
			Category: []string{"Books", "Fiction", "Thrillers"},
			Description: "A satellite engineer finds a message that should not exist, and the agency that built " +
				"the network wants it gone. Fast, twisty and hard to put down.",
			Attributes: map[string]string{"format": "paperback", "pages": "416"},
			Images:     pic(shapeCase, navy, white),
		},
		{
			ID:       "book-03",
			Title:    "The Bootmaker's Craft",
			Brand:    "Penfold Press",
			Category: []string{"Books", "Non-Fiction", "Crafts"},
			Description: "A master cordwainer walks through lasting, welting and finishing a pair of leather boots " +
				"by hand, with 200 photographs from a working workshop.",
			Attributes: map[string]string{"format": "hardcover", "pages": "288"},
			Images:     pic(shapeCase, cognac, white),
		},
		{
			ID:       "book-04",
			Title:    "Run Wild: Trail Running from 5K to Ultra",
			Brand:    "Harbour Books",
			Category: []string{"Books", "Non-Fiction", "Sports"},
			Description: "Training plans, hill technique and race-day advice for trail runners of every level, " +
				"from a coach who has finished 40 ultras.",
			Attributes: map[string]string{"format": "paperback", "pages": "240"},
			Images:     pic(shapeCase, orange, white),
		},
		{
			ID:          "book-05",
			Title:       "Weeknight Cast Iron",
			Brand:       "Penfold Press",
			Category:    []string{"Books", "Non-Fiction", "Cookbooks"},
			Description: "Eighty one-pan dinners for a cast iron skillet, most done in 30 minutes.",
			Attributes:  map[string]string{"format": "hardcover", "pages": "224"},
			Images:      pic(shapeCase, red, white),
		},
		{
			ID:       "book-06",
			Title:    "The Glass Lighthouse",
			Brand:    "Harbour Books",
			Category: []string{"Books", "Fiction", "Mystery"},
			Description: "A keeper vanishes from a lighthouse with no door left unlocked. " +
				"A slow-burning mystery on a remote island.",
			Attributes: map[string]string{"format": "paperback", "pages": "320"},
			Images:     pic(shapeCase, plum, white),
		},

		// Home and office.
		{
			ID:       "home-01",
			Title:    "Cedar & Tobacco Soy Candle",
			Brand:    "Loom & Lantern",
			Category: []string{"Home & Office", "Decor", "Candles"},
			Description: "A hand-poured soy wax candle with notes of cedar, tobacco leaf and a hint of smoke. " +
				"Burns for about 50 hours in an amber glass jar.",
			Attributes: map[string]string{"color": "amber", "size": "300 g"},
			Images:     pic(shapeRound, copper, sand),
		},
		{
			ID:          "home-02",
			Title:       "Chunky Wool Throw Blanket",
			Brand:       "Loom & Lantern",
			Category:    []string{"Home & Office", "Decor", "Throws"},
			Description: "A chunky hand-knit throw in undyed wool, big enough for the sofa or the foot of the bed.",
			Attributes:  map[string]string{"color": "oatmeal", "material": "wool"},
			Images:      pic(shapeCase, sand, white),
		},
		{
			ID:          "home-03",
			Title:       "Ceramic Bud Vase",
			Brand:       "Nordhaven",
			Category:    []string{"Home & Office", "Decor", "Vases"},
			Description: "A small matte ceramic vase for a single stem or dried grasses. Each one is thrown by hand.",
			Attributes:  map[string]string{"color": "blush", "material": "ceramic"},
			Images:      pic(shapeCylinder, blush, white),
		},
		{
			ID:          "home-04",
			Title:       "Brass Desk Lamp",
			Brand:       "Nordhaven",
			Category:    []string{"Home & Office", "Lighting", "Desk Lamps"},
			Description: "An adjustable desk lamp in brushed brass with a warm LED bulb included.",
			Attributes:  map[string]string{"color": "brass", "material": "brass"},
			Images:      pic(shapeCylinder, mustard, white),
		},
		{
			ID:       "home-05",
			Title:    "65 W USB-C GaN Charger",
			Brand:    "Voltline",
			Category: []string{"Home & Office", "Electronics Accessories", "Chargers"},
			Description: "A compact GaN charger with two USB-C ports and one USB-A. " +
				"Charges a laptop and a phone at once.",
			Attributes: map[string]string{"color": "white", "ports": "2x USB-C, 1x USB-A"},
			Images:     pic(shapeCase, white, steel),
		},
		{
			ID:          "home-06",
			Title:       "Braided USB-C Cable, 2 m",
			Brand:       "Voltline",
			Category:    []string{"Home & Office", "Electronics Accessories", "Cables"},
			Description: "A nylon-braided USB-C to USB-C cable rated for 100 W and 10,000 bends.",
			Attributes:  map[string]string{"color": "grey", "length": "2 m"},
			Images:      pic(shapeStrap, charcoal, white),
		},
		{
			ID:       "home-07",
			Title:    "Power Bank 10,000 mAh",
			Brand:    "Voltline",
			Category: []string{"Home & Office", "Electronics Accessories", "Power Banks"},
			Description: "A pocket-sized power bank with 20 W USB-C fast charging. " +
				"Enough for two full phone charges.",
			Attributes: map[string]string{"color": "black", "capacity": "10,000 mAh"},
			Images:     pic(shapeCase, offBlack, white),
		},
		{
			ID:       "home-08",
			Title:    "Wireless Noise-Cancelling Earbuds",
			Brand:    "Voltline",
			Category: []string{"Home & Office", "Electronics Accessories", "Audio"},
			Description: "True wireless earbuds with active noise cancelling and 30 hours of battery with the case. " +
				"Sweat resistant for the gym.",
			Attributes: map[string]string{"color": "white", "battery": "30 h"},
			Images:     pic(shapeRound, white, steel),
		},
	}
}

// pic returns a product's one generated picture.
func pic(s shape, primary, secondary color.RGBA) []hmpps.Image {
	return []hmpps.Image{{Data: productImage(s, primary, secondary)}}
}

// UnrelatedPurchases returns the shopper's purchases from departments that
// have nothing to do with boots (kitchen, books): what stage one should set
// aside for DefaultQuery.
func UnrelatedPurchases(u Shopper) []string {
	unrelated := map[string]bool{"Kitchen & Coffee": true, "Books": true}
	var out []string
	for _, p := range Products() {
		if slices.Contains(u.HistoryIDs, p.ID) && unrelated[p.Category[0]] {
			out = append(out, p.ID)
		}
	}
	return out
}
