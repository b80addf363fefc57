//go:build !unix

package main

import "os"

// terminate is the signal that asks a replica process to shut down; where
// there is no SIGTERM, it kills the process.
var terminate = os.Kill
