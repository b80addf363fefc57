//go:build !race

package summarize

const raceEnabled = false
