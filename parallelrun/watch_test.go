package parallelrun

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"
)

// Watch retries a snapshot that lost its database, never runs two at once, and lets a snapshot
// running at Ctrl-C finish before it stops.
func TestWatchRetriesAndStopsBetweenSnapshots(t *testing.T) {
	t.Parallel()
	var running, calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var events []WatchEvent
	finished := false
	Watch(ctx, WatchOptions{Every: 400 * time.Millisecond, Retry: 20 * time.Millisecond},
		func(sctx context.Context) error {
			if running.Add(1) != 1 {
				t.Error("two snapshots at once")
			}
			defer running.Add(-1)
			n := calls.Add(1)
			switch n {
			case 1, 2:
				return io.ErrUnexpectedEOF // the database went away: tried again
			case 3:
				return errors.New("plan broken") // reported; the next tick runs
			case 5:
				cancel() // Ctrl-C during a snapshot: it finishes, and no other starts
				time.Sleep(50 * time.Millisecond)
				finished = sctx.Err() == nil && len(events) > 0 && !events[len(events)-1].Stopped
			}
			return nil
		},
		func(ev WatchEvent) { events = append(events, ev) })
	if calls.Load() != 5 || !finished {
		t.Fatalf("%d snapshots tried (want 5), the last one finished: %v", calls.Load(), finished)
	}
	var retries, errs int
	for _, ev := range events {
		switch {
		case ev.Retry > 0:
			retries++
		case ev.Err != nil:
			errs++
		}
	}
	last := events[len(events)-1]
	if retries != 2 || errs != 1 || !last.Stopped {
		t.Errorf("retries %d (want 2), errors %d (want 1), last event %+v", retries, errs, last)
	}
	// Tick 1 took three tries (two retries, then an error that no retry mends), ticks 2 and 3
	// one each.
	if ticks := events[len(events)-2].Tick; ticks != 3 {
		t.Errorf("the last snapshot was tick %d, want 3", ticks)
	}
}
