// Package ollamalive connects the live tests to the real Ollama server that
// scripts/ollama.sh starts (or any server named by HMPPS_OLLAMA_HOST), and
// starts private servers from the same binary for the fault tests.
//
// A live test skips without a server, except under CI (CI=true), where a
// skipped live test would hide that the real server never ran: there it
// fails instead.
package ollamalive

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Env is what scripts/ollama.sh exports for the live tests.
type Env struct {
	// Host is the running server's address.
	Host string
	// Model is the text model the script registered.
	Model string
	// EmbedModel is the embedding model the script registered.
	EmbedModel string
	// Bin is the server binary, set when the script built it.
	Bin string
	// Models is the server's OLLAMA_MODELS folder, set with Bin.
	Models string
}

// Require returns the live server's environment. Without HMPPS_OLLAMA_HOST
// and HMPPS_OLLAMA_MODEL the test skips, or fails when CI is set.
func Require(t testing.TB) Env {
	t.Helper()
	env := Env{
		Host:       os.Getenv("HMPPS_OLLAMA_HOST"),
		Model:      os.Getenv("HMPPS_OLLAMA_MODEL"),
		EmbedModel: os.Getenv("HMPPS_OLLAMA_EMBED_MODEL"),
		Bin:        os.Getenv("HMPPS_OLLAMA_BIN"),
		Models:     os.Getenv("HMPPS_OLLAMA_MODELS"),
	}
	if env.Host == "" || env.Model == "" {
		Unavailable(t, "set HMPPS_OLLAMA_HOST and HMPPS_OLLAMA_MODEL, or run under scripts/ollama.sh run")
	}
	return env
}

// RequireEmbed is Require for the tests of the embedding model: without
// HMPPS_OLLAMA_EMBED_MODEL as well the test skips, or fails when CI is set.
func RequireEmbed(t testing.TB) Env {
	t.Helper()
	env := Require(t)
	if env.EmbedModel == "" {
		Unavailable(t, "set HMPPS_OLLAMA_EMBED_MODEL, or run under scripts/ollama.sh run")
	}
	return env
}

// Unavailable skips t with why, or fails it under CI, where live tests
// must run.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("live Ollama test cannot run under CI: %s", why)
	}
	t.Skipf("live Ollama test skipped: %s", why)
}

// Server is a private server started by Start.
type Server struct {
	// Host is its address.
	Host string
	// Log is the file the server writes its log to.
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a private server from env's binary on a free loopback port,
// sharing env's models, and waits until it answers. The test's cleanup
// kills it. Without a binary the test skips (fails under CI).
func Start(ctx context.Context, t testing.TB, env Env, extraEnv ...string) *Server {
	t.Helper()
	return StartOn(ctx, t, env, freePort(t), extraEnv...)
}

// StartOn starts a private server on the loopback port, as Start does; a
// test restarts a killed server on its old port with it. extraEnv adds
// server settings such as "OLLAMA_DEBUG=1".
func StartOn(ctx context.Context, t testing.TB, env Env, port int, extraEnv ...string) *Server {
	t.Helper()
	if env.Bin == "" || env.Models == "" {
		Unavailable(t, "HMPPS_OLLAMA_BIN and HMPPS_OLLAMA_MODELS are not set; the fault tests start servers of their own")
	}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	home := t.TempDir()
	cmd := exec.Command(env.Bin, "serve")
	cmd.Env = append(os.Environ(), "OLLAMA_HOST="+host, "OLLAMA_MODELS="+env.Models, "HOME="+home,
		"OLLAMA_NUM_PARALLEL=1")
	cmd.Env = append(cmd.Env, extraEnv...)
	log, err := os.Create(filepath.Join(home, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so that Kill ends its runner too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ollama serve: %v", err)
	}
	s := &Server{Host: host, Log: log.Name(), cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); log.Close(); close(s.done) }()
	t.Cleanup(s.Kill)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/api/version", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("ollama serve exited before answering; log in %s", home)
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("ollama serve did not answer within 2 minutes; log in %s", home)
		}
	}
}

// Port returns the server's port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Host)
	n, _ := strconv.Atoi(p)
	return n
}

// Kill kills the server and its runner at once (SIGKILL to its process
// group), as a crash would, and waits for it to exit.
func (s *Server) Kill() {
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-s.done
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// String describes the server.
func (s *Server) String() string { return fmt.Sprintf("ollama serve at %s", s.Host) }
