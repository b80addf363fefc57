package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"hmpps/hmpps"
)

// Defaults of the service's settings.
const (
	// defaultAddr is loopback only: a service is exposed on purpose, never
	// by accident.
	defaultAddr            = "127.0.0.1:8080"
	defaultMaxBodyBytes    = 8 << 20
	defaultMaxBatch        = 1000
	defaultSearchTimeout   = 30 * time.Second
	defaultUpsertTimeout   = 2 * time.Minute
	defaultShutdownTimeout = 30 * time.Second
	defaultMilvusColl      = "hmpps_service"
	// envPrefix names the environment variable of each flag: -ollama-host
	// is also HMPPS_OLLAMA_HOST.
	envPrefix = "HMPPS_"
)

// config is everything the service can be told, by flags or environment.
type config struct {
	// Addr is where the server listens.
	Addr string
	// Catalog is the engine file: opened at start when it exists, written
	// at shutdown. Blank means the catalog lives in memory only.
	Catalog string
	// Demo loads the demo catalog when no catalog file was opened.
	Demo bool
	// MaxBodyBytes bounds a request body; larger ones get 413.
	MaxBodyBytes int64
	// MaxBatch bounds the products of one PUT /products.
	MaxBatch int
	// Limits bound what one search may ask for; zero fields keep the
	// library's defaults.
	Limits hmpps.Limits
	// SearchTimeout bounds one search, model calls included.
	SearchTimeout time.Duration
	// UpsertTimeout bounds one PUT /products: embedding and, with
	// captions, a model call per product.
	UpsertTimeout time.Duration
	// ShutdownTimeout bounds the wait for requests in flight at shutdown.
	ShutdownTimeout time.Duration
	// LogLevel is the least severe level logged; debug adds a line per
	// request.
	LogLevel slog.Level
	// Ollama turns on the model-backed stages when it names a model.
	Ollama ollamaFlags
	// Milvus moves the vectors into Milvus when its address is set.
	Milvus milvusFlags
}

// ollamaFlags are the settings of hmpps.OllamaConfig the service exposes.
type ollamaFlags struct {
	Host, VisionModel, SummarizerModel, EmbedModel string
	EmbedDimension, RerankCandidates, Concurrency  int
	Mode                                           string
	Timeout                                        time.Duration
	Captions                                       bool
}

// milvusFlags are the settings of the Milvus index the service exposes.
type milvusFlags struct {
	Addr, Collection, Username, Password string
}

// errFlags marks an error the flag package has already printed, with the
// usage.
var errFlags = errors.New("bad flags")

// parseConfig reads the flags in args, then, for every flag not given, the
// environment variable HMPPS_<NAME> (upper case, dashes as underscores)
// through getenv. Flags win over the environment.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&c.Addr, "addr", defaultAddr, "listen address (host:port)")
	fs.StringVar(&c.Catalog, "catalog", "", "engine file: opened at start if it exists, saved at shutdown (blank: in memory only)")
	fs.BoolVar(&c.Demo, "demo", true, "load the demo catalog when no catalog file was opened")
	fs.Int64Var(&c.MaxBodyBytes, "max-body", defaultMaxBodyBytes, "largest request body in bytes")
	fs.IntVar(&c.MaxBatch, "max-batch", defaultMaxBatch, "most products in one PUT /products")
	fs.IntVar(&c.Limits.QueryBytes, "max-query-bytes", 0, "longest search query in bytes (0: hmpps.DefaultMaxQueryBytes)")
	fs.IntVar(&c.Limits.History, "max-history", 0, "most history items of one search (0: hmpps.DefaultMaxHistory)")
	fs.IntVar(&c.Limits.Candidates, "max-candidates", 0, "most candidate IDs of one search (0: hmpps.DefaultMaxCandidates)")
	fs.DurationVar(&c.SearchTimeout, "search-timeout", defaultSearchTimeout, "deadline of one search, model calls included")
	fs.DurationVar(&c.UpsertTimeout, "upsert-timeout", defaultUpsertTimeout, "deadline of one PUT /products, model calls included")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "how long shutdown waits for requests in flight")

	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "least severe log level: debug (a line per request), info, warn or error")

	fs.StringVar(&c.Ollama.Host, "ollama-host", "", "Ollama server (blank: OLLAMA_HOST, else http://127.0.0.1:11434)")
	fs.StringVar(&c.Ollama.VisionModel, "ollama-vision", "", "vision model that reranks (blank: offline reranker)")
	fs.StringVar(&c.Ollama.SummarizerModel, "ollama-summarizer", "", "model that summarizes (blank: the vision model, else offline)")
	fs.StringVar(&c.Ollama.EmbedModel, "ollama-embed", "", "text embedding model (blank: offline hashing embedder)")
	fs.IntVar(&c.Ollama.EmbedDimension, "ollama-embed-dim", 0, "the embedding model's dimension (0: ask the server)")
	fs.IntVar(&c.Ollama.RerankCandidates, "ollama-candidates", 0, "candidates per search the vision model judges (0: all)")
	fs.IntVar(&c.Ollama.Concurrency, "ollama-concurrency", 0, "model calls a search makes at once (0: library default)")
	fs.StringVar(&c.Ollama.Mode, "ollama-mode", "chat", "how the reranker asks the model: chat or completion")
	fs.DurationVar(&c.Ollama.Timeout, "ollama-timeout", 0, "limit on each model call (0: library default)")
	fs.BoolVar(&c.Ollama.Captions, "ollama-captions", false, "caption product pictures at upsert with the vision model")

	fs.StringVar(&c.Milvus.Addr, "milvus-addr", "", "Milvus server host:port; blank keeps the vectors in process")
	fs.StringVar(&c.Milvus.Collection, "milvus-collection", defaultMilvusColl, "Milvus collection the service owns")
	fs.StringVar(&c.Milvus.Username, "milvus-user", "", "Milvus user name, if the server checks")
	fs.StringVar(&c.Milvus.Password, "milvus-password", "", "Milvus password, if the server checks")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, fmt.Errorf("%w: %w", errFlags, err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || envErr != nil {
			return
		}
		name := envName(f.Name)
		if v := getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q is no value for -%s: %w", name, v, f.Name, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	return c, c.validate()
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// validate rejects settings the service cannot run with.
func (c config) validate() error {
	switch {
	case c.MaxBodyBytes < 1:
		return fmt.Errorf("-max-body must be at least 1, got %d", c.MaxBodyBytes)
	case c.MaxBatch < 1:
		return fmt.Errorf("-max-batch must be at least 1, got %d", c.MaxBatch)
	case c.Limits.QueryBytes < 0 || c.Limits.History < 0 || c.Limits.Candidates < 0:
		return fmt.Errorf("-max-query-bytes, -max-history and -max-candidates must not be negative")
	case c.SearchTimeout <= 0:
		return fmt.Errorf("-search-timeout must be positive, got %s", c.SearchTimeout)
	case c.UpsertTimeout <= 0:
		return fmt.Errorf("-upsert-timeout must be positive, got %s", c.UpsertTimeout)
	case c.ShutdownTimeout <= 0:
		return fmt.Errorf("-shutdown-timeout must be positive, got %s", c.ShutdownTimeout)
	case c.Ollama.Mode != "chat" && c.Ollama.Mode != "completion":
		return fmt.Errorf("-ollama-mode must be chat or completion, got %q", c.Ollama.Mode)
	case c.Milvus.Addr != "" && c.Milvus.Collection == "":
		return fmt.Errorf("-milvus-collection must not be blank")
	}
	return nil
}
