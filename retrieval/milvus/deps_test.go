package milvus

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOfflinePackagesLinkNoSDK guards the reason this package exists: the
// engine and package retrieval must not depend on the Milvus client, or
// every program using them links it (and gRPC, sentry-go, ...) again.
func TestOfflinePackagesLinkNoSDK(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list dependencies with")
	}
	out, err := exec.Command(goTool, "list", "-deps", "hmpps/hmpps", "hmpps/retrieval", "hmpps/examples/quickstart").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"milvus", "google.golang.org/grpc", "getsentry", "cockroachdb"} {
			require.NotContains(t, pkg, banned, "an offline package depends on %s", pkg)
		}
	}
}
