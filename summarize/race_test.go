//go:build race

package summarize

// raceEnabled is set under the race detector, whose sync.Pool drops items
// at random, so allocation counts mean nothing there.
const raceEnabled = true
