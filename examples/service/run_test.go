package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
)

// startRun runs the service in process on a free loopback port and returns
// its base URL, a function that stops it as a signal would, and the channel
// run's result arrives on.
func startRun(t *testing.T, args ...string) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	cfg, err := parseConfig(append([]string{"-addr", "127.0.0.1:0"}, args...), func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.DiscardHandler), func(a string) { addr <- a }) }()
	select {
	case a := <-addr:
		return "http://" + a, cancel, done
	case err := <-done:
		cancel()
		t.Fatalf("run ended before it listened: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("run did not listen within 30s")
	}
	return "", cancel, done
}

func do(t *testing.T, method, url, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// httpSender sends JSON requests to base.
func httpSender(base string) sender {
	return func(method, path string, body any) (int, []byte, time.Duration, error) {
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				return 0, nil, 0, err
			}
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, base+path, rd)
		if err != nil {
			return 0, nil, 0, err
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, time.Since(start), err
	}
}

// Stopping the service saves the catalog file, and the next start opens it
// instead of loading the demo catalog again.
func TestRunSavesAtShutdownAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.hmpps")
	base, stop, done := startRun(t, "-catalog", path)
	require.Equal(t, 200, do(t, "PUT", base+"/products", `{"products":[{"id":"gaiter-01","title":"Waterproof Gaiters"}]}`))
	require.Equal(t, 204, do(t, "DELETE", base+"/products/book-01", ""))
	stop()
	require.NoError(t, <-done)

	eng, err := hmpps.Open(context.Background(), path)
	require.NoError(t, err)
	assert.Equal(t, 54, eng.Len(), "54 demo products, one added, one deleted")
	_, err = eng.Get(context.Background(), "gaiter-01")
	assert.NoError(t, err)
	_, err = eng.Get(context.Background(), "book-01")
	assert.ErrorIs(t, err, hmpps.ErrNotFound)
	require.NoError(t, eng.Close())

	base, stop, done = startRun(t, "-catalog", path)
	assert.Equal(t, 404, do(t, "GET", base+"/products/book-01", ""), "the file was opened, not the demo reloaded")
	assert.Equal(t, 200, do(t, "GET", base+"/products/gaiter-01", ""))
	stop()
	require.NoError(t, <-done)
}

// Writes racing the shutdown: every one the service acknowledged is in the
// saved file, whichever side of the shutdown it fell on.
func TestShutdownKeepsAcknowledgedWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.hmpps")
	base, stop, done := startRun(t, "-catalog", path)
	const writers, each = 4, 25
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("race-%d-%d", w, i)
				body := fmt.Sprintf(`{"products":[{"id":%q,"title":"Racing boots"}]}`, id)
				req, err := http.NewRequest("PUT", base+"/products", strings.NewReader(body))
				if err != nil {
					return
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server is gone: not acknowledged
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	stop()
	wg.Wait()
	require.NoError(t, <-done)

	eng, err := hmpps.Open(context.Background(), path)
	require.NoError(t, err)
	defer eng.Close()
	for _, id := range acked {
		_, err := eng.Get(context.Background(), id)
		assert.NoError(t, err, "acknowledged write %s is not in the saved file", id)
	}
	t.Logf("%d of %d writes acknowledged before the shutdown", len(acked), writers*each)
}

// The limit flags reach the engine.
func TestRunAppliesLimits(t *testing.T) {
	base, stop, done := startRun(t, "-max-query-bytes", "10")
	defer func() {
		stop()
		require.NoError(t, <-done)
	}()
	assert.Equal(t, 200, do(t, "POST", base+"/search", `{"query":"boots"}`))
	assert.Equal(t, 400, do(t, "POST", base+"/search", `{"query":"waterproof boots"}`))
}

func TestRunWithoutCatalogSavesNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	base, stop, done := startRun(t, "-demo=false")
	assert.Equal(t, 404, do(t, "GET", base+"/products/boot-01", ""), "-demo=false starts empty")
	stop()
	require.NoError(t, <-done)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestRunFailsOnACorruptCatalog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.hmpps")
	require.NoError(t, os.WriteFile(path, []byte("not an engine file"), 0o644))
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:0", "-catalog", path}, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	err = run(context.Background(), cfg, slog.New(slog.DiscardHandler), nil)
	assert.ErrorIs(t, err, hmpps.ErrCorruptFile)
	data, _ := os.ReadFile(path)
	assert.Equal(t, "not an engine file", string(data), "a file the service could not open is left alone")
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// The built program saves its catalog when SIGTERM or SIGINT stops it, and
// exits 0.
func TestBinaryShutdownOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the program with")
	}
	bin := filepath.Join(t.TempDir(), "service")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shop.hmpps")
			cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-catalog", path)
			stderr, err := cmd.StderrPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			lines := bufio.NewScanner(stderr)
			var base string
			for lines.Scan() {
				if m := listening.FindStringSubmatch(lines.Text()); m != nil {
					base = "http://" + m[1]
					break
				}
			}
			require.NotEmpty(t, base, "the program never said where it listens")
			go io.Copy(io.Discard, stderr)
			require.Equal(t, 200, do(t, "PUT", base+"/products", `{"products":[{"id":"gaiter-01","title":"Waterproof Gaiters"}]}`))

			require.NoError(t, cmd.Process.Signal(sig))
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				require.NoError(t, err, "the program exits 0 after a clean shutdown")
			case <-time.After(30 * time.Second):
				t.Fatal("the program did not stop within 30s of the signal")
			}
			eng, err := hmpps.Open(context.Background(), path)
			require.NoError(t, err)
			defer eng.Close()
			assert.Equal(t, 55, eng.Len())
			_, err = eng.Get(context.Background(), "gaiter-01")
			assert.NoError(t, err)
		})
	}
}
