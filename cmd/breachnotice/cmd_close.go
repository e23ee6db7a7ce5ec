package main

import (
	"context"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/banner"
)

// outstandingWork is what incident close refuses on: the notices, letters,
// deadlines and filings still open (notify.OutstandingWork) and the website
// posting still owed (banner.OutstandingPosting), one line each, no person
// named.
func outstandingWork(ctx context.Context, st *incident.Store, id int64, now time.Time) ([]string, error) {
	work, err := notify.OutstandingWork(ctx, st, id, now)
	if err != nil {
		return nil, err
	}
	posting, err := banner.OutstandingPosting(ctx, st, id, now)
	if err != nil {
		return nil, err
	}
	if posting != "" {
		work = append(work, posting)
	}
	return work, nil
}
