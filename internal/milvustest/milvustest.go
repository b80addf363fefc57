// Package milvustest gives tests a real Milvus server, never a mock: the one
// MILVUS_ADDR names (make test starts one and sets it), or else one started
// with the repository's scripts/milvus.sh, which needs python3. Tests are
// skipped only when neither is available, and fail instead when the CI
// environment variable is set.
package milvustest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// script is the start/stop script, relative to the module root.
const script = "scripts/milvus.sh"

// shared is the server Addr starts when MILVUS_ADDR is not set; Main stops
// it.
var shared struct {
	once   sync.Once
	server *Server
	err    error
}

// Main runs the tests of a package that uses Addr and stops the server Addr
// may have started; call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if s := shared.server; s != nil {
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "milvustest: stop the test server:", err)
		}
		os.RemoveAll(s.dir)
	}
	os.Exit(code)
}

// Addr returns the address of a Milvus server for t: MILVUS_ADDR, or a
// server started once for the test binary (the package's TestMain must call
// Main to stop it). It skips t when there is no way to get one.
func Addr(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv("MILVUS_ADDR"); addr != "" {
		return addr
	}
	RequirePython(t)
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "hmpps-milvus-")
		if err != nil {
			shared.err = err
			return
		}
		s := &Server{dir: dir}
		if shared.err = s.Start(); shared.err == nil {
			shared.server = s
		}
	})
	if shared.err != nil {
		t.Fatalf("starting Milvus with %s: %v", script, shared.err)
	}
	return shared.server.Addr()
}

// RequirePython skips t when python3, which the script needs, is missing;
// under CI it fails t instead.
func RequirePython(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err == nil {
		return
	}
	msg := "no Milvus for this test: MILVUS_ADDR is not set and python3 (to start a server with " + script + ") is not installed"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Server is a Milvus server started by the script, with its data in a
// directory of its own; it can be stopped and started again on the same
// data and port.
type Server struct {
	dir  string
	addr string
}

// Start starts a server for t alone, which t may stop and restart; it is
// stopped when t ends.
func Start(t *testing.T) *Server {
	t.Helper()
	RequirePython(t)
	s := &Server{dir: t.TempDir()}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop Milvus: %v", err)
		}
	})
	return s
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.addr }

var addrLine = regexp.MustCompile(`(?m)^MILVUS_ADDR=(\S+)$`)

// Start starts the server: on a free port the first time, on the same port
// and data after a Stop.
func (s *Server) Start() error {
	port := 0
	if s.addr != "" {
		_, p, err := net.SplitHostPort(s.addr)
		if err != nil {
			return err
		}
		fmt.Sscan(p, &port)
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	out, err := run("start", s.dir, fmt.Sprint(port))
	if err != nil {
		return err
	}
	m := addrLine.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("%s start printed no address: %s", script, out)
	}
	if s.addr != "" && m[1] != s.addr {
		return fmt.Errorf("restarted Milvus listens on %s, not %s", m[1], s.addr)
	}
	s.addr = m[1]
	return nil
}

// Stop stops the server, keeping its data for a later Start.
func (s *Server) Stop() error {
	_, err := run("stop", s.dir)
	return err
}

func run(args ...string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", append([]string{filepath.Join(root, script)}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", script, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// moduleRoot finds the directory of go.mod above the working directory,
// which go test sets to the package's.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("milvustest: no go.mod above the working directory")
		}
		dir = parent
	}
}

var seq atomic.Int64

// Collection returns a collection name unique to this call: the test's
// name, made a valid Milvus name, after a prefix that keeps runs against one
// long-lived server apart.
func Collection(t testing.TB) string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "_")
	if len(name) > 120 {
		name = name[:120]
	}
	return fmt.Sprintf("t%d_%d_%s", time.Now().UnixNano()%1e9, seq.Add(1), name)
}
