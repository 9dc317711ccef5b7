package pipeline

import (
	"context"
	"errors"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// ErrStopped is what emit returns once Config.Stop is closed: the producer should return (nil,
// for a graceful stop); what it emitted before is still worked and committed.
var ErrStopped = errors.New("pipeline stopped")

// Config sizes an Ordered pipeline.
type Config struct {
	// Workers is how many goroutines run work; less than 1 means 1.
	Workers int
	// Queue is how many emitted items may wait for a worker (default Workers).
	Queue int
	// Results is how many worked items may wait for the committer (default Workers).
	Results int
	// Stop, optional, ends production without cancelling anything: once it is closed, emit returns
	// ErrStopped instead of waiting for room. Workers and the committer finish the items emitted
	// so far. (migrate passes ctx.Done() of its caller and runs the pipeline under
	// context.WithoutCancel, so that Ctrl-C writes and records the batches in flight.)
	Stop <-chan struct{}
}

type item[T any] struct {
	seq int
	v   T
}

// Ordered runs produce in one goroutine, work in cfg.Workers goroutines and commit in one
// goroutine, and commits every worked item in the order it was emitted.
//
// produce calls emit for each item; emit blocks while the queue is full and returns ctx's error
// once the pipeline is cancelled (or ErrStopped, see Config.Stop), which produce should return.
// work gets the index of its worker (0 to Workers-1), for per-worker state such as scratch
// buffers or connections. commit is never called concurrently with itself.
//
// The first error of any stage cancels the context the stages get, and Ordered returns it once
// every goroutine it started has ended; until then, the items already worked keep being
// committed in order up to the first one missing (a failed or abandoned item), so that what was
// done before a failure is recorded. Memory is bounded: at most Queue items wait for a worker,
// Workers are worked on and Results wait for the committer; and however slow one item is, at
// most Queue+Results+2×Workers items are emitted and not committed yet (emit waits), the
// committer holding back those that arrive before it.
func Ordered[In, Out any](ctx context.Context, cfg Config,
	produce func(ctx context.Context, emit func(In) error) error,
	work func(ctx context.Context, worker int, in In) (Out, error),
	commit func(ctx context.Context, out Out) error) error {
	workers := max(cfg.Workers, 1)
	queue, results := cfg.Queue, cfg.Results
	if queue <= 0 {
		queue = workers
	}
	if results <= 0 {
		results = workers
	}
	g, gctx := errgroup.WithContext(ctx)
	in := make(chan item[In], queue)
	out := make(chan item[Out], results)
	// window holds a token for each item emitted and not committed yet: without it, a slow item
	// would let the others pile up in the committer's pending map without bound.
	window := make(chan struct{}, queue+results+2*workers)
	g.Go(func() error {
		defer close(in)
		seq := 0
		return produce(gctx, func(v In) error {
			select {
			case window <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			case <-cfg.Stop:
				return ErrStopped
			}
			select {
			case in <- item[In]{seq, v}:
				seq++
				return nil
			case <-gctx.Done():
				return gctx.Err()
			case <-cfg.Stop:
				return ErrStopped
			}
		})
	})
	var running atomic.Int32
	running.Store(int32(workers))
	for w := range workers {
		g.Go(func() error {
			defer func() {
				if running.Add(-1) == 0 {
					close(out)
				}
			}()
			for it := range in {
				v, err := work(gctx, w, it.v)
				if err != nil {
					return err
				}
				select {
				case out <- item[Out]{it.seq, v}:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		pending := map[int]Out{}
		next := 0
		for it := range out {
			pending[it.seq] = it.v
			for v, ok := pending[next]; ok; v, ok = pending[next] {
				delete(pending, next)
				next++
				if err := commit(gctx, v); err != nil {
					return err
				}
				<-window
			}
		}
		return nil
	})
	return g.Wait()
}
