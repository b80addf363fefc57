package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
)

// TestRunWithModel wires -ollama-model to an in-process stand-in server: the
// model pipeline joins the tables on the same lists, with its calls counted.
func TestRunWithModel(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{
		Models: []string{"fake-vl"},
		Chat: ollamatest.YesNo(func(req *api.ChatRequest) float64 {
			return float64(len(ollamatest.Prompt(req))%10) / 10
		}),
	})
	data, out := writeTinyData(t), t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-data", data, "-recbole", "", "-out", out, "-negatives", "5", "-bootstrap", "10",
		"-tune=false", "-tasks", "3", "-ollama-model", "fake-vl", "-ollama-host", srv.URL}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Contains(t, stdout.String(), "| hmpps + fake-vl |")
	assert.Contains(t, stdout.String(), "| "+nameTrained+" + fake-vl |", "the model on top of the trained engine")
	assert.Contains(t, stdout.String(), nameTrained+" + fake-vl vs "+nameTrained+" (")
	assert.NotEmpty(t, srv.Chats())
}
