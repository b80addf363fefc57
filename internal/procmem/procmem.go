// Package procmem reads what Linux says of a process's memory in
// /proc/<pid>/status: its resident memory (VmRSS) and the peak of it
// (VmHWM). Elsewhere there is no such file, and every reading says so.
package procmem

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Resident returns the resident memory of the process with pid, in bytes,
// or of this process when pid is 0; false where /proc does not say.
func Resident(pid int) (uint64, bool) { return read(pid, "VmRSS:") }

// Peak returns the peak resident memory of the process with pid, in bytes,
// or of this process when pid is 0; false where /proc does not say.
func Peak(pid int) (uint64, bool) { return read(pid, "VmHWM:") }

func read(pid int, field string) (uint64, bool) {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	return parse(string(b), field)
}

// parse finds field ("VmRSS:") in the text of a status file and returns
// its value in bytes; the file gives kilobytes.
func parse(status, field string) (uint64, bool) {
	for line := range strings.Lines(status) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil || kb > 1<<53 {
				return 0, false
			}
			return kb << 10, true
		}
	}
	return 0, false
}
