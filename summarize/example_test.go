package summarize_test

import (
	"context"
	"fmt"
	"log"

	"hmpps/summarize"
)

func ExampleExtractive() {
	doc := summarize.Document{
		ID:    "B07RIDGE",
		Title: "Ridge Mid hiking boot",
		Text: "<p>The Ridge is our lightest trail boot.</p>" +
			"<ul><li>Waterproof membrane keeps feet dry in rain</li>" +
			"<li>Vibram sole grips wet rock</li>" +
			"<li>Weighs 1.1 kg per pair</li></ul>" +
			"<p>Ships in recycled packaging.</p>",
	}
	s, err := summarize.Extractive{}.Summarize(context.Background(), "waterproof and grippy on wet rock", doc, 12)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Text)
	// Output: Waterproof membrane keeps feet dry in rain. Vibram sole grips wet rock.
}
