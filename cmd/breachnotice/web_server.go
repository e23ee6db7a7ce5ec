package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/breachnotice/breachnotice/notify"
)

// defaultAddr is where serve listens unless told otherwise: loopback, so
// that exposing it is a decision (a reverse proxy, or --addr).
const defaultAddr = "127.0.0.1:8080"

// shutdownGrace is how long serve waits for requests in flight after
// SIGINT or SIGTERM.
const shutdownGrace = 10 * time.Second

// cmdServe runs the one breachnotice server process: today the public
// routes (banner, notice pages, health); the admin UI, the API, the
// delivery workers and the scheduler join it in mount and start.
func (a *app) cmdServe(ctx context.Context, args []string) error {
	fs := a.flags("serve")
	addr := fs.String("addr", defaultAddr, "`HOST:PORT` to listen on")
	publicURL := fs.String("public-url", "", "the `URL` the public reaches this server at, e.g. https://notices.example.org (env BREACHNOTICE_PUBLIC_URL)")
	jf := &jobFlags{}
	a.bindJobFlags(fs, jf)
	noJobs := fs.Bool("no-jobs", false, "do not run the scheduled jobs in this process")
	demo := fs.Bool("demo", false, "seed an empty database with a demo platform and one user per role, and print their passwords")
	// Sends started from the admin UI or the API, and the workers, use the
	// same relays and settings.
	send := defaultSendFlags()
	a.bindDeliveryFlags(fs, &send, " per incident being sent")
	workersOnly := fs.Bool("workers-only", false, "run only the delivery workers: no HTTP, no scheduled jobs; send every incident that is sending, sharing the work with other workers and incident send runs, on any machines (README: Past one machine)")
	poll := fs.Duration("poll", notify.DefaultPoll, "with --workers-only: how long to wait, when nothing is due, before looking again")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	send.outbox, send.relays, send.smtp = jf.outbox, jf.relays, jf.smtp
	if *workersOnly {
		return a.serveWorkers(ctx, fs, &send, *poll)
	}
	if *publicURL == "" {
		*publicURL = a.getenv("BREACHNOTICE_PUBLIC_URL")
	}
	mode := dbExisting
	if *demo {
		mode = dbCreate
	}
	if _, err := a.open(ctx, mode); err != nil {
		return err
	}
	var demoUsers []demoUser
	if *demo {
		var err error
		if demoUsers, err = a.seedServeDemo(ctx, "demo"); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if *noJobs {
		jf = nil
	}
	srv, err := a.newServer(ctx, serverConfig{PublicURL: *publicURL, Log: log, Poll: time.Second, Jobs: jf, Send: send})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	base := publicBase(*publicURL)
	if *publicURL == "" {
		base = "http://" + ln.Addr().String()
	}
	if demoUsers != nil {
		printDemoUsers(a.stdout, "http://"+ln.Addr().String(), demoUsers)
	}
	fmt.Fprintf(a.stdout, "serving on http://%s (public URL %s); embed the banner with\n  <script src=\"%s/banner.js\" data-controller=\"%s\" defer></script>\n",
		ln.Addr(), base, base, srv.snapshot().Operator)
	return srv.serve(ctx, ln)
}

// serverConfig is what serve's flags and environment decide.
type serverConfig struct {
	// PublicURL is the base URL the public reaches the server at ("" =
	// unknown).
	PublicURL string
	Log       *slog.Logger
	// Poll is how often the banner snapshot checks for changes made by
	// other processes.
	Poll time.Duration
	// Jobs, when set, runs the jobs table on its schedules (cmd_jobs.go).
	Jobs *jobFlags
	// Send is how a send started from the admin UI or the API delivers.
	Send sendFlags
}

// server is the serve process: its routes and its background work.
type server struct {
	app     *app
	cfg     serverConfig
	log     *slog.Logger
	handler http.Handler
	banners *bannerCache
	jobs    *scheduler
	adm     *adminState   // the admin UI's and the API's (web_auth.go)
	hooks   webhookConfig // the bounce webhooks' secrets (web_webhooks.go)
}

// newServer builds the server and loads what it serves; it does not
// listen. Tests call it and drive handler with httptest.
func (a *app) newServer(ctx context.Context, cfg serverConfig) (*server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Send.channel == "" {
		cfg.Send = defaultSendFlags()
	}
	s := &server{app: a, cfg: cfg, log: cfg.Log, adm: newAdminState(a.now)}
	bc, err := newBannerCache(ctx, a.store, a.now, cfg.Log)
	if err != nil {
		return nil, err
	}
	s.banners = bc
	if s.hooks, err = loadWebhookConfig(a.getenv); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	s.mount(mux)
	s.handler = s.accessLog(mux)
	return s, nil
}

// mount registers every route of the process: the one place where the
// admin UI (/admin/, login at /admin/login), the JSON API (/api/) and the
// bounce webhooks (/webhooks/bounces/) are added.
func (s *server) mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mountPublic(mux)
	s.mountAdmin(mux)
	s.mountAPI(mux)
	s.mountWebhooks(mux)
}

// start runs the process's background work until ctx ends: the banner
// snapshot's change watch and the scheduler; the delivery workers join
// here.
func (s *server) start(ctx context.Context) error {
	go s.banners.watch(ctx, s.cfg.Poll)
	go func() { <-ctx.Done(); s.adm.runs.stop() }()
	return s.startJobs(ctx)
}

// serve serves on ln until ctx ends (SIGINT or SIGTERM), then shuts down
// gracefully: no new connections, requests in flight get shutdownGrace.
func (s *server) serve(ctx context.Context, ln net.Listener) error {
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	if err := s.start(bg); err != nil {
		return err
	}
	// The scheduler stops after the HTTP server, and signs the final
	// ledger checkpoint.
	defer s.stopJobs(shutdownGrace)
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("serve started", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("serve stopping")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	s.log.Info("serve stopped")
	return nil
}

func (s *server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "ok")
}

// accessLog logs one line per request: method, route pattern, status,
// bytes and duration. Never the path's values or the query string: a
// route's pattern ("GET /notices/{controller}/{incident}") says what was
// asked for without saying who asked about what.
func (s *server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", rw.status),
			slog.Int64("bytes", rw.bytes), slog.Duration("duration", time.Since(start)))
	})
}

// statusWriter remembers a response's status and size for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
