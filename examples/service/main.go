// Command service serves personalized product search over HTTP and JSON: a
// small, production-shaped program around an hmpps Engine, on the standard
// library and golang.org/x/time/rate.
//
//	PUT    /products       add or replace a batch of products       (write)
//	GET    /products/{id}  one product                              (read)
//	DELETE /products/{id}  remove a product (idempotent)            (write)
//	POST   /search         a personalized search, with every stage's scores (read)
//	GET    /healthz        liveness and catalog size                (no key)
//	GET    /metrics        request counts and latency histograms (Prometheus text format) (admin)
//	POST   /save           save the catalog to its -catalog file now (admin)
//
// With no flags it listens on 127.0.0.1:8080 and serves the demo catalog
// from memory, offline, to anyone who can reach loopback:
//
//	go run ./examples/service
//	go run ./examples/service -catalog shop.hmpps -addr 127.0.0.1:9090
//
// Exposed beyond loopback, it needs API keys, each with a name and a role:
// read (search and get), write (also put and delete) or admin (also
// metrics and save). They come from -key-file (one key a line: name, role,
// secret), or -keys or HMPPS_KEYS (name:role:secret, comma-separated), and
// travel as "Authorization: Bearer <secret>". A request without a valid key
// is answered 401, one whose key's role is too small 403. Secrets are
// compared in constant time and never logged; logs and metrics name the
// key. Without keys the service refuses a non-loopback -addr unless
// -behind-auth-proxy says a proxy in front authenticates every caller.
// -tls-cert and -tls-key serve HTTPS.
//
//	go run ./examples/service -addr :8443 -key-file keys.txt -tls-cert cert.pem -tls-key key.pem
//
// Fair use: each key may make -search-rate searches a second (a token
// bucket of -search-burst; 429 with Retry-After beyond it); the engine runs
// at most -max-searches searches at once, -search-queue more wait their turn
// up to -search-queue-wait, and the rest are answered 503 with Retry-After.
// A search's filter is bounded by -max-filter-clauses and
// -max-filter-values (400), the text of each ad-hoc history product by
// -max-history-text (413). Bodies nest at most 32 levels and name a member
// once per object, in the case the API spells it. The server's read-header
// and read timeouts cut off slow clients, and -max-header-bytes bounds the
// headers (431). /metrics counts refused requests by reason and key name.
//
// With -catalog, the engine file is opened at start when it exists and
// saved, atomically, when the service stops on SIGINT or SIGTERM (and on
// POST /save). The -ollama-* flags turn on the model-backed stages, the
// -milvus-* flags keep the vectors in Milvus. Every flag can also be set by
// an environment variable: HMPPS_ and the flag's name in upper case with
// underscores (-ollama-host is HMPPS_OLLAMA_HOST); a flag wins over its
// variable. docs/service.md ("Running it") shows a session
// with curl; docs/service-access.md covers keys, TLS and limits.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return
	case errors.Is(err, errFlags):
		os.Exit(2) // the flag package said why
	case err != nil:
		fmt.Fprintln(os.Stderr, "service:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log, nil); err != nil {
		log.Error("service stopped", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then stops taking requests, waits for the ones
// in flight, and saves and closes the catalog. ready, if not nil, is told
// the address the server listens on.
func run(ctx context.Context, cfg config, log *slog.Logger, ready func(addr string)) error {
	// A config made by parseConfig is valid; one made otherwise is checked
	// here, so that no caller can skip the refusal to run exposed.
	if err := cfg.validate(); err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if cfg.Access.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.Access.TLSCert, cfg.Access.TLSKey)
		if err != nil {
			return fmt.Errorf("-tls-cert, -tls-key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	logAccess(log, cfg)
	cat, err := openCatalog(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return errors.Join(err, cat.close(context.WithoutCancel(ctx), log))
	}
	srv := newHTTPServer(cfg, newServer(cat.eng, cfg, log), log)
	srv.TLSConfig = tlsConfig
	log.Info("listening", "addr", ln.Addr().String(), "tls", tlsConfig != nil)
	if ready != nil {
		ready(ln.Addr().String())
	}
	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			served <- srv.ServeTLS(ln, "", "") // the pair is in TLSConfig
			return
		}
		served <- srv.Serve(ln)
	}()

	select {
	case err = <-served:
		// The listener failed; nothing to wait for.
	case <-ctx.Done():
		log.Info("shutting down", "cause", context.Cause(ctx))
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		err = srv.Shutdown(shutdownCtx)
		cancel()
		if err != nil {
			// Requests still running may yet write; the file gets what
			// was acknowledged so far.
			log.Warn("requests still running at shutdown", "err", err)
			err = fmt.Errorf("shutdown: %w", err)
		}
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}
	return errors.Join(err, cat.close(context.WithoutCancel(ctx), log))
}

// newHTTPServer returns the server of h with cfg's timeouts and header
// limit: a client that trickles its headers (slowloris) is cut off after
// -read-header-timeout, one that trickles its body after -read-timeout,
// and a header block over -max-header-bytes is answered 431 before any
// handler runs.
func newHTTPServer(cfg config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		// A request may take its deadline; its answer needs a little more.
		WriteTimeout:   max(cfg.SearchTimeout, cfg.UpsertTimeout) + 10*time.Second,
		IdleTimeout:    cfg.HTTP.IdleTimeout,
		MaxHeaderBytes: cfg.HTTP.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// logAccess says at start who may call the service: the keys' names by
// role, never their secrets, and warns of keys sent in clear text.
func logAccess(log *slog.Logger, cfg config) {
	keys := &cfg.Access.Keys
	if keys.open() {
		log.Info("no keys: every caller may do everything", "addr", cfg.Addr, "behind_auth_proxy", cfg.Access.BehindAuthProxy)
		return
	}
	names := keys.names()
	log.Info("keys", "read", names["read"], "write", names["write"], "admin", names["admin"])
	if cfg.Access.TLSCert == "" && !loopback(cfg.Addr) {
		log.Warn("keys travel in clear text: serve with -tls-cert and -tls-key unless a proxy in front terminates TLS")
	}
}
