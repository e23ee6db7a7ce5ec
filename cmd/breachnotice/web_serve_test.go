package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServe_LogAndShutdown: serve listens, logs each request by route
// pattern without the query string or path values, and stops cleanly when
// its context ends (SIGINT/SIGTERM in main).
func TestServe_LogAndShutdown(t *testing.T) {
	c := webCLI(t)
	var stdout, stderr syncBuffer
	a := newApp(strings.NewReader(""), &stdout, &stderr, func(k string) string { return c.env[k] })
	defer a.close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--outbox", filepath.Join(t.TempDir(), "outbox")})
	}()
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`serving on (http://\S+)`).FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("serve did not start: %s %s", stdout.String(), stderr.String())
	}
	for _, p := range []string{"/healthz", "/banner.json?controller=nb&secret=zed@learners.example", "/notices/nb/1?lang=es", "/notices/nb/3"} {
		res, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	log := stderr.String()
	for _, w := range []string{`route="GET /banner.json" status=200`, `route="GET /notices/{controller}/{incident}" status=404`,
		`route="GET /healthz"`, "serve stopped", "scheduler started", `msg="final ledger checkpoint" state=ok`} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
	for _, w := range []string{"zed@", "secret", "lang=es", "/notices/nb/1", "controller=nb"} {
		if strings.Contains(log, w) {
			t.Errorf("log holds %q:\n%s", w, log)
		}
	}
}
