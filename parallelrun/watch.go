package parallelrun

import (
	"context"
	"errors"
	"time"

	"github.com/crmigrate/crmigrate/internal/pgerr"
	"github.com/crmigrate/crmigrate/validate"
)

// WatchOptions configure Watch.
type WatchOptions struct {
	Every time.Duration // between the starts of two snapshots
	Retry time.Duration // the first wait after a snapshot failed for want of a database (0: 5s, at most Every/4); it doubles
	// Ticks stops the watch after so many snapshots taken or tried (0: until ctx is done); for tests.
	Ticks int
}

// WatchEvent tells the watcher's caller what happened.
type WatchEvent struct {
	Tick    int           // 1 for the first snapshot
	Err     error         // the snapshot's error (nil when it was taken)
	Retry   time.Duration // > 0: the database went away; the snapshot is tried again after this
	Next    time.Time     // when the next snapshot starts (zero: the watch stops)
	Stopped bool          // the watch stopped (ctx done between snapshots)
}

// Watch takes a snapshot every o.Every until ctx is done. Snapshots never overlap: one that runs
// longer than Every delays the next. A snapshot that fails for want of a database (a transient
// error), or that a sync disturbed (validate.ErrChanged), is tried again with a doubling wait
// until it is taken or its next tick comes; any other error is reported and the next tick runs as
// planned. The snapshot runs with a context that ctx
// does not cancel: when ctx is done (Ctrl-C) during a snapshot, it is finished and the watch
// stops; between snapshots the watch stops at once.
func Watch(ctx context.Context, o WatchOptions, snapshot func(context.Context) error, notify func(WatchEvent)) {
	if o.Retry <= 0 {
		o.Retry = min(5*time.Second, o.Every/4)
	}
	snapCtx := context.WithoutCancel(ctx)
	next := time.Now()
	for tick := 1; ; tick++ {
		if !sleepUntil(ctx, next) {
			notify(WatchEvent{Tick: tick, Stopped: true})
			return
		}
		start := time.Now()
		next = start.Add(o.Every)
		wait := o.Retry
		for {
			err := snapshot(snapCtx)
			ev := WatchEvent{Tick: tick, Err: err, Next: next}
			last := o.Ticks > 0 && tick >= o.Ticks
			if err != nil && retryable(err) && time.Now().Add(wait).Before(next) && ctx.Err() == nil {
				ev.Retry = wait
				notify(ev)
				if !sleepUntil(ctx, time.Now().Add(wait)) {
					notify(WatchEvent{Tick: tick, Stopped: true})
					return
				}
				wait = min(2*wait, o.Every)
				continue
			}
			if last || ctx.Err() != nil {
				ev.Next = time.Time{}
				notify(ev)
				if ctx.Err() != nil {
					notify(WatchEvent{Tick: tick, Stopped: true})
				}
				return
			}
			notify(ev)
			break
		}
		if now := time.Now(); next.Before(now) {
			next = now // a snapshot longer than Every: the next one starts at once
		}
	}
}

// retryable says whether a snapshot that failed with err is worth trying again soon: a database
// that went away, or a sync that changed staging while the snapshot read it.
func retryable(err error) bool {
	return pgerr.Transient(err) || errors.Is(err, validate.ErrChanged)
}

// sleepUntil waits until t or until ctx is done; it says whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	if ctx.Err() != nil {
		return false
	}
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
