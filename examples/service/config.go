package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
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
	// The http.Server's limits on a slow or greedy client: a client that
	// trickles its headers (slowloris) is cut off after the first, one that
	// trickles its body after the second.
	defaultReadHeaderTimeout = 5 * time.Second
	defaultReadTimeout       = 30 * time.Second
	defaultIdleTimeout       = 2 * time.Minute
	defaultMaxHeaderBytes    = 64 << 10
	// Searches the engine runs at once, searches that may wait for one of
	// them, and how long one waits before it is answered 503.
	defaultMaxSearches     = 16
	defaultSearchQueue     = 64
	defaultSearchQueueWait = 5 * time.Second
	// The service's bounds on what one search may carry that the library's
	// Limits leave open.
	defaultMaxFilterClauses = 16
	defaultMaxFilterValues  = 256
	defaultMaxHistoryText   = 16 << 10
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
	// Access is who may call the service, and how it is reached.
	Access accessConfig
	// FairUse bounds what one caller may take of the service.
	FairUse fairUseConfig
	// HTTP holds the server's timeouts and header limit.
	HTTP httpConfig
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

// accessConfig says who may call the service, and over what.
type accessConfig struct {
	// Keys are the callers the service knows, from -keys and -key-file.
	// Empty, every caller is anonymous and may do everything.
	Keys keyring
	// BehindAuthProxy says that something in front of the service
	// authenticates callers, so that it may listen on a non-loopback
	// address without keys.
	BehindAuthProxy bool
	// TLSCert and TLSKey are the PEM files of the server's certificate and
	// its private key; blank serves plain HTTP.
	TLSCert, TLSKey string
}

// fairUseConfig bounds what one caller may take.
type fairUseConfig struct {
	// SearchRate is the searches per second each key may make on average;
	// zero means no limit.
	SearchRate float64
	// SearchBurst is the size of a key's bucket: the most searches it may
	// make at once after a quiet spell. Zero means one second's worth, at
	// least one.
	SearchBurst int
	// MaxSearches is how many searches the engine runs at once.
	MaxSearches int
	// SearchQueue is how many more searches may wait for one of those
	// places; beyond that a search is answered 503 at once.
	SearchQueue int
	// SearchQueueWait is the longest a search waits for a place before it
	// is answered 503.
	SearchQueueWait time.Duration
	// MaxFilterClauses and MaxFilterValues bound a search's filter: its
	// conditions, and their values all together.
	MaxFilterClauses, MaxFilterValues int
	// MaxHistoryText bounds the text of one ad-hoc history product, in
	// bytes: everything the engine embeds and summarizes of it.
	MaxHistoryText int
}

// httpConfig is the http.Server's defence against slow and greedy clients.
type httpConfig struct {
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                              int
}

// milvusFlags are the settings of the Milvus index the service exposes.
type milvusFlags struct {
	Addr, Collection, Username, Password string
	// Catalog keeps the whole catalog in the collection, which replicas
	// of the service then share (see hmpps.SharedCatalog): no catalog
	// file, and the collection outlives the service.
	Catalog bool
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

	// The secrets of -keys are parsed below and never kept in c as text.
	var keyList, keyFile string
	fs.StringVar(&keyList, "keys", "", "API keys as name:role:secret, comma-separated; role is read, write or admin (prefer HMPPS_KEYS or -key-file: flags show in process lists)")
	fs.StringVar(&keyFile, "key-file", "", "file of API keys, one a line: name role secret")
	fs.BoolVar(&c.Access.BehindAuthProxy, "behind-auth-proxy", false, "a proxy in front authenticates callers: allow a non-loopback -addr without keys")
	fs.StringVar(&c.Access.TLSCert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS")
	fs.StringVar(&c.Access.TLSKey, "tls-key", "", "PEM private key file of -tls-cert")

	fs.Float64Var(&c.FairUse.SearchRate, "search-rate", 0, "searches per second each key may make on average (0: no limit)")
	fs.IntVar(&c.FairUse.SearchBurst, "search-burst", 0, "size of a key's bucket: searches it may make at once after a quiet spell (0: one second's worth)")
	fs.IntVar(&c.FairUse.MaxSearches, "max-searches", defaultMaxSearches, "searches the engine runs at once")
	fs.IntVar(&c.FairUse.SearchQueue, "search-queue", defaultSearchQueue, "searches that may wait for one of -max-searches; beyond, 503")
	fs.DurationVar(&c.FairUse.SearchQueueWait, "search-queue-wait", defaultSearchQueueWait, "longest a search waits for its turn before 503")
	fs.IntVar(&c.FairUse.MaxFilterClauses, "max-filter-clauses", defaultMaxFilterClauses, "most conditions in a search's filter")
	fs.IntVar(&c.FairUse.MaxFilterValues, "max-filter-values", defaultMaxFilterValues, "most values in a search's filter, all conditions together")
	fs.IntVar(&c.FairUse.MaxHistoryText, "max-history-text", defaultMaxHistoryText, "longest text of one ad-hoc history product in a search, in bytes")

	fs.DurationVar(&c.HTTP.ReadHeaderTimeout, "read-header-timeout", defaultReadHeaderTimeout, "time a client has to send a request's headers")
	fs.DurationVar(&c.HTTP.ReadTimeout, "read-timeout", defaultReadTimeout, "time a client has to send a whole request")
	fs.DurationVar(&c.HTTP.IdleTimeout, "idle-timeout", defaultIdleTimeout, "how long an idle keep-alive connection stays open")
	fs.IntVar(&c.HTTP.MaxHeaderBytes, "max-header-bytes", defaultMaxHeaderBytes, "largest request header block in bytes; larger ones get 431")

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
	fs.BoolVar(&c.Milvus.Catalog, "milvus-catalog", false, "keep the catalog itself in the Milvus collection, shared by every replica started so (no -catalog file; the collection is kept at shutdown)")

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
	if err := c.Access.Keys.parseKeyList(keyList); err != nil {
		return c, err
	}
	if keyFile != "" {
		if err := c.Access.Keys.readKeyFile(keyFile); err != nil {
			return c, err
		}
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
	case !validAddr(c.Addr):
		return fmt.Errorf("-addr must be host:port (a blank host is every interface), got %q", c.Addr)
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
	case c.Milvus.Catalog && c.Milvus.Addr == "":
		return fmt.Errorf("-milvus-catalog needs -milvus-addr")
	case c.Milvus.Catalog && c.Catalog != "":
		return fmt.Errorf("-milvus-catalog and -catalog exclude each other: with -milvus-catalog the collection is the catalog")
	case (c.Access.TLSCert == "") != (c.Access.TLSKey == ""):
		return fmt.Errorf("-tls-cert and -tls-key go together: give both or neither")
	case c.FairUse.SearchRate < 0 || math.IsNaN(c.FairUse.SearchRate) || math.IsInf(c.FairUse.SearchRate, 0):
		return fmt.Errorf("-search-rate must be a finite number, at least 0, got %v", c.FairUse.SearchRate)
	case c.FairUse.SearchBurst < 0:
		return fmt.Errorf("-search-burst must not be negative, got %d", c.FairUse.SearchBurst)
	case c.FairUse.MaxSearches < 1:
		return fmt.Errorf("-max-searches must be at least 1, got %d", c.FairUse.MaxSearches)
	case c.FairUse.SearchQueue < 0:
		return fmt.Errorf("-search-queue must not be negative, got %d", c.FairUse.SearchQueue)
	case c.FairUse.SearchQueueWait < 0:
		return fmt.Errorf("-search-queue-wait must not be negative, got %s", c.FairUse.SearchQueueWait)
	case c.FairUse.MaxFilterClauses < 1 || c.FairUse.MaxFilterValues < 1 || c.FairUse.MaxHistoryText < 1:
		return fmt.Errorf("-max-filter-clauses, -max-filter-values and -max-history-text must be at least 1")
	case c.HTTP.ReadHeaderTimeout <= 0 || c.HTTP.ReadTimeout <= 0 || c.HTTP.IdleTimeout <= 0:
		return fmt.Errorf("-read-header-timeout, -read-timeout and -idle-timeout must be positive")
	case c.HTTP.MaxHeaderBytes < 1:
		return fmt.Errorf("-max-header-bytes must be at least 1, got %d", c.HTTP.MaxHeaderBytes)
	}
	if c.Access.Keys.open() && !c.Access.BehindAuthProxy && !loopback(c.Addr) {
		return fmt.Errorf("%w: -addr %s is reachable from other machines and the service has no keys: "+
			"give -key-file or -keys (HMPPS_KEYS), or -behind-auth-proxy if a proxy in front authenticates every caller",
			errExposed, c.Addr)
	}
	return nil
}

// errExposed reports a configuration that would let anyone who reaches the
// port write the catalog.
var errExposed = errors.New("refusing to start without keys")

func validAddr(addr string) bool {
	_, _, err := net.SplitHostPort(addr)
	return err == nil
}

// loopback reports whether addr (host:port) listens on loopback only. A
// blank host listens on every interface; a host name other than localhost
// is not trusted to stay loopback.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
