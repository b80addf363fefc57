//go:build unix

package main

import "syscall"

// terminate is the signal that asks a replica process to shut down.
var terminate = syscall.SIGTERM
