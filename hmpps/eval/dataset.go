package eval

import (
	"cmp"
	"slices"

	"hmpps/hmpps"
)

// Dataset is what an offline evaluation replays: a catalog and who bought
// what when.
type Dataset struct {
	// Name identifies the data in reports, e.g. "amazon-magazine".
	Name string
	// Products is the catalog, sorted by ID. Every purchased product is in
	// it, with metadata or without.
	Products []hmpps.Product
	// Purchases are sorted by user, then time; purchases of one user at the
	// same time keep the order of the source. A (user, product) pair appears
	// once in a dataset from LoadAmazon; LoadRecBole keeps repeat purchases,
	// as its files' split counts them.
	Purchases []Purchase
	// Stats describes the source and its coverage, for reports and tests.
	Stats Stats
}

// Purchase is one user buying (or reviewing, the usual proxy) one product.
type Purchase struct {
	// User is the user's ID.
	User string
	// Product is the product's ID.
	Product string
	// Time is when it happened, in Unix seconds; the Amazon data has day
	// resolution, so ties are common and the source order breaks them.
	// Data without timestamps (RecBole's sequences) gives the purchase's
	// place in the user's sequence instead.
	Time int64
}

// Stats counts what a loader read and how much metadata it found: the facts a
// reader of a report needs to judge the data.
type Stats struct {
	// Rows is the number of purchase rows read, duplicates included.
	Rows int `json:"rows"`
	// Users and Products count distinct users and purchased products.
	Users    int `json:"users"`
	Products int `json:"products"`
	// DuplicatePairs counts (user, product) pairs that appear in more than
	// one row; only the earliest row of each is kept.
	DuplicatePairs int `json:"duplicate_pairs"`
	// DroppedRows is the number of rows dropped as duplicates.
	DroppedRows int `json:"dropped_rows"`
	// WithMetadata counts purchased products that have a metadata record.
	WithMetadata int `json:"with_metadata"`
	// WithCategory counts products with a category, of any number of
	// levels.
	WithCategory int `json:"with_category"`
	// WithCategoryPath counts products whose category path has two or more
	// levels, the ones CategoryQuery builds a query from.
	WithCategoryPath int `json:"with_category_path"`
	// WithDescription, WithBrand and WithImage count products with a
	// non-empty description, brand, and at least one image URL.
	WithDescription int `json:"with_description"`
	WithBrand       int `json:"with_brand"`
	WithImage       int `json:"with_image"`
	// BrokenTitles counts titles that were markup debris and were replaced
	// by a display title built from brand and description.
	BrokenTitles int `json:"broken_titles"`
	// TruncatedLists counts rows of RecBole .inter files whose item list is
	// a window that leaves out the user's earliest purchases.
	TruncatedLists int `json:"truncated_lists,omitempty"`
}

// Sequence is one user's purchases in time order.
type Sequence struct {
	// User is the user's ID.
	User string
	// Purchases are the user's purchases, oldest first.
	Purchases []Purchase
}

// Sequences returns each user's purchases in time order, users sorted by ID.
// The slices share memory with d.Purchases.
func (d *Dataset) Sequences() []Sequence {
	var out []Sequence
	for i := 0; i < len(d.Purchases); {
		j := i + 1
		for j < len(d.Purchases) && d.Purchases[j].User == d.Purchases[i].User {
			j++
		}
		out = append(out, Sequence{User: d.Purchases[i].User, Purchases: d.Purchases[i:j:j]})
		i = j
	}
	return out
}

// Product returns the catalog product with this ID.
func (d *Dataset) Product(id string) (hmpps.Product, bool) {
	i, ok := slices.BinarySearchFunc(d.Products, id, func(p hmpps.Product, id string) int {
		return cmp.Compare(p.ID, id)
	})
	if !ok {
		return hmpps.Product{}, false
	}
	return d.Products[i], true
}
