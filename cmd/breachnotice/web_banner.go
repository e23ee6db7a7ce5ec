package main

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/banner"
)

// bannerCache holds the public routes' banner.Snapshot: requests read it
// without a lock or a query; watch swaps in a new one when the banners
// change, in this process or another (see the notify/banner package doc).
type bannerCache struct {
	st   *incident.Store
	now  func() time.Time
	log  *slog.Logger
	snap atomic.Pointer[banner.Snapshot]
}

func newBannerCache(ctx context.Context, st *incident.Store, now func() time.Time, log *slog.Logger) (*bannerCache, error) {
	c := &bannerCache{st: st, now: now, log: log}
	if err := c.reload(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *server) snapshot() *banner.Snapshot { return s.banners.snap.Load() }

// reload builds a new snapshot and swaps it in.
func (c *bannerCache) reload(ctx context.Context) error {
	snap, err := banner.Load(ctx, c.st, c.now().UTC())
	if err != nil {
		return err
	}
	c.snap.Store(snap)
	return nil
}

// check reloads the snapshot if the banner change counter moved or a live
// banner has expired since it was built; it reports whether it did.
func (c *bannerCache) check(ctx context.Context) (bool, error) {
	cur := c.snap.Load()
	v, err := banner.Version(ctx, c.st.DB())
	if err != nil {
		return false, err
	}
	expired := !cur.NextChange.IsZero() && !c.now().Before(cur.NextChange)
	if v == cur.Version && !expired {
		return false, nil
	}
	return true, c.reload(ctx)
}

// watch checks every interval until ctx ends. A failed check keeps the
// snapshot it has: a database briefly locked must not take the banner down.
func (c *bannerCache) watch(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if ok, err := c.check(ctx); err != nil {
			c.log.Warn("banner snapshot reload failed", "error", err)
		} else if ok {
			c.log.Info("banner snapshot reloaded", "version", c.snap.Load().Version)
		}
	}
}
