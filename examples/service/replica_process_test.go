package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// buildService builds this command into a temporary directory, with the
// race detector when the test runs under it, and returns the binary's
// path. It skips t when no go command is at hand.
func buildService(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is needed to build the service: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "service")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goCmd, append(args, ".")...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build of the service: %s", out)
	return bin
}

// freePort returns a loopback port nothing listens on at the moment: a
// replica keeps its port across a restart, as behind a load balancer.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// process is one replica of the service running as an operating system
// process.
type process struct {
	cmd *exec.Cmd
	// log is what the process wrote to its standard error.
	log *lockedBuffer
	// exited is closed when the process has ended, and err is then what
	// Wait returned.
	exited chan struct{}
	err    error
}

// lockedBuffer is a bytes.Buffer safe for the goroutine exec copies a
// process's output with and the test reading it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startProcess starts bin with args and waits until it answers GET /healthz
// on base. It returns the process and how long it took to become ready, or
// an error with the process's log when it ends first or does not answer
// within limit (it is then killed).
func startProcess(bin, base string, limit time.Duration, args ...string) (*process, time.Duration, error) {
	p := &process{cmd: exec.Command(bin, args...), log: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Stderr = p.log
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, 0, err
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	for {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, time.Since(start), nil
			}
		}
		select {
		case <-p.exited:
			return nil, 0, fmt.Errorf("the replica at %s ended before it was ready (%v):\n%s", base, p.err, p.log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Since(start) > limit {
			p.kill()
			return nil, 0, fmt.Errorf("the replica at %s was not ready within %v:\n%s", base, limit, p.log)
		}
	}
}

// kill ends the process at once with SIGKILL, as a crash or the out of
// memory killer would, and waits for it to be gone.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop asks the process to shut down with SIGTERM and returns how it
// ended; a process that does not end within limit is killed.
func (p *process) stop(limit time.Duration) error {
	if err := p.cmd.Process.Signal(terminate); err != nil {
		return err
	}
	select {
	case <-p.exited:
		return p.err
	case <-time.After(limit):
		p.kill()
		return fmt.Errorf("did not stop within %v of SIGTERM", limit)
	}
}

// healthz returns the catalog size GET /healthz reports at base.
func healthz(ctx context.Context, client *http.Client, base string) (int, error) {
	status, b, _, err := sendWith(ctx, client, base, "", "GET", "/healthz", nil)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("GET /healthz: status %d: %s", status, b)
	}
	var h struct {
		Products int `json:"products"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return 0, err
	}
	return h.Products, nil
}
