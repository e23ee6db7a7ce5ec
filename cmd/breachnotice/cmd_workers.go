package main

import (
	"context"
	"flag"
	"log/slog"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/notify"
)

// serveWorkers is serve --workers-only: the delivery workers alone, with no
// HTTP listener and no scheduler, until SIGINT or SIGTERM (ctx). Any number
// of them, on any machines, and incident send runs share one database's
// work (notify.Work). On a signal they stop claiming, let the messages in
// flight finish within the dispatcher's grace, record them, and exit 0.
func (a *app) serveWorkers(ctx context.Context, fs *flag.FlagSet, f *sendFlags, poll time.Duration) error {
	var http []string
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "addr", "demo", "public-url":
			http = append(http, "--"+fl.Name)
		}
	})
	if len(http) > 0 {
		return usageError{msg: "serve: --workers-only runs no HTTP server: drop " + strings.Join(http, ", ") +
			" (run another serve without --workers-only for the admin UI, the API and the public pages)", help: "breachnotice help serve"}
	}
	if poll <= 0 {
		return usageError{msg: "serve: --poll must be positive", help: "breachnotice help serve"}
	}
	if _, err := a.open(ctx, dbExisting); err != nil {
		return err
	}
	tr, name, err := a.transport(f)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	log.Info("workers delivering", "through", name, "concurrency", f.concurrency, "rate", f.rate)
	return notify.Work(ctx, a.store, notify.WorkOptions{
		Send: notify.SendOptions{Transport: tr, Concurrency: f.concurrency, Rate: f.rate, RetryBase: f.retryBase,
			MaxAttempts: f.attempts, Lease: f.lease, Now: a.now},
		Poll: poll,
		Log:  log,
	})
}
