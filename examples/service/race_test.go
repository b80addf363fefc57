//go:build race

package main

// raceEnabled is true under the race detector: the replicas the tests
// start as processes are then built with it too.
const raceEnabled = true
