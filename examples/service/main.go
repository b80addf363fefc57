// Command service serves personalized product search over HTTP and JSON: a
// small, production-shaped program around an hmpps Engine, on the standard
// library alone.
//
//	PUT    /products       add or replace a batch of products
//	GET    /products/{id}  one product
//	DELETE /products/{id}  remove a product (idempotent)
//	POST   /search         a personalized search, with every stage's scores
//	GET    /healthz        liveness and catalog size
//	GET    /metrics        request counts and latency histograms (Prometheus text format)
//
// With no flags it listens on 127.0.0.1:8080 and serves the demo catalog
// from memory, offline:
//
//	go run ./examples/service
//	go run ./examples/service -catalog shop.hmpps -addr 127.0.0.1:9090
//
// With -catalog, the engine file is opened at start when it exists and
// saved, atomically, when the service stops on SIGINT or SIGTERM. The
// -ollama-* flags turn on the model-backed stages, the -milvus-* flags keep
// the vectors in Milvus. Every flag can also be set by an environment
// variable: HMPPS_ and the flag's name in upper case with underscores
// (-ollama-host is HMPPS_OLLAMA_HOST); a flag wins over its variable. The
// README's "Running it as a service" section shows a session with curl.
package main

import (
	"context"
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
	cat, err := openCatalog(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return errors.Join(err, cat.close(context.WithoutCancel(ctx), log))
	}
	srv := &http.Server{
		Handler:           newServer(cat.eng, cfg, log),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// A request may take its deadline; its answer needs a little more.
		WriteTimeout: max(cfg.SearchTimeout, cfg.UpsertTimeout) + 10*time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

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
