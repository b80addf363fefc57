package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"hmpps/hmpps/eval"
)

// progressBar draws one self-overwriting line on a terminal and, when the
// output is a file or a pipe (make, CI logs), one line per finished phase, so
// that logs stay readable.
type progressBar struct {
	w        io.Writer
	terminal bool
	phase    string
	last     time.Time
	start    time.Time
}

func newProgressBar(f *os.File) *progressBar {
	st, err := f.Stat()
	return &progressBar{w: f, terminal: err == nil && st.Mode()&os.ModeCharDevice != 0}
}

const barWidth = 30

// update reports progress within phase (e.g. "test/hard").
func (p *progressBar) update(phase string, pr eval.Progress) {
	key := phase + " " + pr.Method
	if key != p.phase {
		p.phase, p.start = key, time.Now()
	}
	finished := pr.Done == pr.Total
	if !p.terminal {
		if finished {
			fmt.Fprintf(p.w, "%-12s %-32s %4d tasks  %6.1fs\n", phase, pr.Method, pr.Total, time.Since(p.start).Seconds())
		}
		return
	}
	// Redrawing more than 20 times a second only costs time.
	if !finished && time.Since(p.last) < 50*time.Millisecond {
		return
	}
	p.last = time.Now()
	filled := barWidth * pr.Done / max(pr.Total, 1)
	fmt.Fprintf(p.w, "\r\033[K%-12s [%s%s] %4d/%-4d method %d/%d %s", phase,
		strings.Repeat("=", filled), strings.Repeat(" ", barWidth-filled), pr.Done, pr.Total, pr.Index+1, pr.Methods, pr.Method)
	if finished && pr.Index+1 == pr.Methods {
		fmt.Fprintln(p.w)
	}
}
