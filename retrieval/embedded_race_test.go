//go:build race

package retrieval

// raceEnabled is true under the race detector, which makes sync.Pool drop
// items at random and so breaks allocation counts.
const raceEnabled = true
