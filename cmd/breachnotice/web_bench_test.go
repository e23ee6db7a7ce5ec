package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadResult is one load run's figures.
type loadResult struct {
	requests int
	elapsed  time.Duration
	p50, p99 time.Duration
}

func (r loadResult) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// load sends GET url from workers keep-alive connections until count
// requests are done or limit has passed, whichever comes first, and
// returns the throughput and latency percentiles. Every response must be
// 200 with want bytes.
func load(tb testing.TB, url string, want int, workers, count int, limit time.Duration) loadResult {
	tb.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	var failed atomic.Value
	lat := make([][]time.Duration, workers)
	deadline := time.Now().Add(limit)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for next.Add(1) <= int64(count) && time.Now().Before(deadline) {
				t0 := time.Now()
				res, err := client.Get(url)
				if err != nil {
					failed.Store(err.Error())
					return
				}
				n, _ := io.ReadFull(res.Body, buf)
				res.Body.Close()
				if res.StatusCode != 200 || n != want {
					failed.Store(fmt.Sprintf("status %d, %d bytes", res.StatusCode, n))
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f != nil {
		tb.Fatalf("%s: %v", url, f)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		tb.Fatalf("%s: no request completed", url)
	}
	return loadResult{requests: len(all), elapsed: elapsed, p50: all[len(all)/2], p99: all[len(all)*99/100]}
}

// TestLoad_BannerJSONVsFileServer is a loopback load test: /banner.json
// served by the real handler (access log on, to a discarding handler) next
// to net/http.FileServer serving the same bytes from a file, in one run,
// alternating to share the machine's noise. It prints requests/s and p99 of
// each and their ratio (goal: at least 0.8). Bounded: each of its 3 rounds
// per server stops after 20000 requests or 2 s. It runs only when asked:
//
//	BREACHNOTICE_LOAD=1 go test -run TestLoad_BannerJSON -v ./cmd/breachnotice
func TestLoad_BannerJSONVsFileServer(t *testing.T) {
	if os.Getenv("BREACHNOTICE_LOAD") == "" {
		t.Skip("set BREACHNOTICE_LOAD=1 to run the load test")
	}
	c := webCLI(t)
	a := newApp(nil, io.Discard, io.Discard, func(k string) string { return c.env[k] })
	a.now = func() time.Time { return c.now }
	defer a.close()
	if _, err := a.open(context.Background(), dbExisting); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := a.newServer(context.Background(), serverConfig{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	body := s.snapshot().BannerJSON("").Body
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "banner.json"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	ours := httptest.NewServer(s.handler)
	defer ours.Close()
	files := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer files.Close()

	const workers, count, limit, rounds = 8, 20000, 2 * time.Second, 3
	load(t, ours.URL+"/banner.json", len(body), workers, 500, limit) // warm up
	load(t, files.URL+"/banner.json", len(body), workers, 500, limit)
	var o, f []loadResult
	for range rounds {
		o = append(o, load(t, ours.URL+"/banner.json", len(body), workers, count, limit))
		f = append(f, load(t, files.URL+"/banner.json", len(body), workers, count, limit))
	}
	best := func(rs []loadResult) loadResult {
		return slices.MaxFunc(rs, func(a, b loadResult) int { return int(a.rps() - b.rps()) })
	}
	bo, bf := best(o), best(f)
	for i := range rounds {
		t.Logf("round %d: /banner.json %8.0f req/s p99 %v | FileServer %8.0f req/s p99 %v",
			i+1, o[i].rps(), o[i].p99, f[i].rps(), f[i].p99)
	}
	ratio := bo.rps() / bf.rps()
	fmt.Printf("banner.json (%d bytes, %d workers, best of %d): ours %.0f req/s p50 %v p99 %v; FileServer %.0f req/s p50 %v p99 %v; ratio %.2f (goal >= 0.8)\n",
		len(body), workers, rounds, bo.rps(), bo.p50, bo.p99, bf.rps(), bf.p50, bf.p99, ratio)
	if ratio < 0.8 {
		t.Errorf("ratio %.2f below 0.8", ratio)
	}
}
