package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeSection is the section of docs/service.md whose curl session this
// test runs.
const readmeSection = "## Running it"

// curlLine is a README command with the status it is documented to answer:
// "curl ... # 200".
var curlLine = regexp.MustCompile(`^(curl .*?)\s+#\s*(\d{3})\b`)

// readmeSession returns the curl commands of the README's service section,
// in order, with their documented statuses, and the section's text.
func readmeSession(t *testing.T) ([]string, []int, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "service.md"))
	require.NoError(t, err)
	text := string(data)
	start := strings.Index(text, "\n"+readmeSection+"\n")
	require.GreaterOrEqual(t, start, 0, "README has no %q section", readmeSection)
	section := text[start+1:]
	if end := strings.Index(section[len(readmeSection):], "\n## "); end >= 0 {
		section = section[:len(readmeSection)+end]
	}
	var cmds []string
	var statuses []int
	inShell := false
	for line := range strings.SplitSeq(section, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inShell = !inShell && strings.TrimPrefix(line, "```") == "sh"
		case inShell && strings.HasPrefix(line, "curl "):
			m := curlLine.FindStringSubmatch(line)
			require.NotNil(t, m, "README curl line without its status comment (# 200): %s", line)
			status, _ := strconv.Atoi(m[2])
			cmds, statuses = append(cmds, m[1]), append(statuses, status)
		}
	}
	return cmds, statuses, section
}

// TestReadmeCurlSession runs the README's curl lines, as written, against
// the service on a loopback port: each must answer the status written
// next to it, with a JSON body (or none).
func TestReadmeCurlSession(t *testing.T) {
	cmds, statuses, section := readmeSession(t)
	require.GreaterOrEqual(t, len(cmds), 8, "the README's session lost its curl lines")
	assert.Contains(t, section, "go run ./examples/service\n", "the session starts the service with no flags")
	assert.Contains(t, section, "`"+defaultAddr+"`", "the section documents the default address")
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is needed to run the README's session")
		}
		t.Skip("no curl on this machine")
	}
	base, stop, done := startRun(t, "-catalog", filepath.Join(t.TempDir(), "shop.hmpps"))
	defer func() {
		stop()
		require.NoError(t, <-done)
	}()
	host := strings.TrimPrefix(base, "http://")
	out := filepath.Join(t.TempDir(), "body")
	for i, cmd := range cmds {
		// The literal command, pointed at this test's port; its body goes
		// to a file and curl prints the status.
		line := strings.ReplaceAll(cmd, defaultAddr, host) + " -o " + out + " -w '%{http_code}'"
		got, err := exec.Command("sh", "-c", line).Output()
		require.NoError(t, err, "README: %s", cmd)
		assert.Equal(t, strconv.Itoa(statuses[i]), string(got), "README: %s", cmd)
		body, err := os.ReadFile(out)
		require.NoError(t, err)
		if len(body) > 0 && !strings.Contains(cmd, "/metrics") {
			assert.True(t, json.Valid(body), "README: %s answered %s", cmd, body)
		}
	}
}
