//go:build !unix

package main

import "time"

// processCPU is not measured here; the load test then leaves it out.
func processCPU() time.Duration { return 0 }
