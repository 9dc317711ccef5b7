package pipeline

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// produceN emits 0..n-1, or fewer if emit fails.
func produceN(n int) func(context.Context, func(int) error) error {
	return func(_ context.Context, emit func(int) error) error {
		for i := range n {
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	}
}

func jitter() { time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond) }

// noLeak fails the test if goroutines started during it are still running once it ends.
func noLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		for range 100 {
			if runtime.NumGoroutine() <= before {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	})
}

func TestOrderedKeepsOrder(t *testing.T) {
	noLeak(t)
	for _, workers := range []int{0, 1, 3, 8} {
		const n = 500
		var got []int
		var busy [8]atomic.Int32
		err := Ordered(context.Background(), Config{Workers: workers},
			produceN(n),
			func(_ context.Context, w, v int) (int, error) {
				if busy[w].Add(1) != 1 {
					t.Errorf("worker %d runs twice at once", w)
				}
				defer busy[w].Add(-1)
				jitter()
				return v * 2, nil
			},
			func(_ context.Context, v int) error { got = append(got, v); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d workers: %d committed, want %d", workers, len(got), n)
		}
		for i, v := range got {
			if v != 2*i {
				t.Fatalf("%d workers: item %d is %d: out of order", workers, i, v)
			}
		}
	}
}

func TestOrderedErrors(t *testing.T) {
	noLeak(t)
	boom := errors.New("boom")
	for _, stage := range []string{"produce", "work", "commit"} {
		t.Run(stage, func(t *testing.T) {
			var committed []int
			var cancelled atomic.Bool
			err := Ordered(context.Background(), Config{Workers: 4},
				func(ctx context.Context, emit func(int) error) error {
					for i := 0; ; i++ { // endless unless stopped
						if stage == "produce" && i == 50 {
							return boom
						}
						if err := emit(i); err != nil {
							cancelled.Store(true)
							return err
						}
					}
				},
				func(ctx context.Context, _ int, v int) (int, error) {
					jitter()
					if stage == "work" && v == 50 {
						return 0, boom
					}
					return v, ctx.Err()
				},
				func(_ context.Context, v int) error {
					if stage == "commit" && v == 50 {
						return boom
					}
					committed = append(committed, v)
					return nil
				})
			if !errors.Is(err, boom) {
				t.Fatalf("error %v, want boom", err)
			}
			if stage != "produce" && !cancelled.Load() {
				t.Error("the producer was not stopped")
			}
			// What was worked before the failed item is committed, in order, and nothing after it.
			for i, v := range committed {
				if v != i {
					t.Fatalf("committed %v", committed)
				}
			}
			if len(committed) > 50 || (stage == "commit" && len(committed) != 50) {
				t.Fatalf("committed %d items", len(committed))
			}
		})
	}
}

func TestOrderedCancel(t *testing.T) {
	noLeak(t)
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	err := Ordered(ctx, Config{Workers: 3},
		func(ctx context.Context, emit func(int) error) error {
			for i := 0; ; i++ {
				if err := emit(i); err != nil {
					return err
				}
			}
		},
		func(ctx context.Context, _ int, v int) (int, error) {
			if n.Add(1) == 20 {
				cancel()
			}
			jitter()
			return v, nil
		},
		func(context.Context, int) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// TestOrderedStop: a closed Stop ends production only; what was emitted is worked and committed.
func TestOrderedStop(t *testing.T) {
	noLeak(t)
	stop := make(chan struct{})
	var emitted, committed int
	var stopped bool
	err := Ordered(context.Background(), Config{Workers: 2, Stop: stop},
		func(ctx context.Context, emit func(int) error) error {
			for i := 0; ; i++ {
				if i == 30 {
					close(stop)
				}
				if err := emit(i); err != nil {
					stopped = errors.Is(err, ErrStopped)
					return nil
				}
				emitted++
			}
		},
		func(ctx context.Context, _ int, v int) (int, error) {
			jitter()
			return v, ctx.Err()
		},
		func(_ context.Context, v int) error {
			if v != committed {
				t.Errorf("committed %d after %d items", v, committed)
			}
			committed++
			return nil
		})
	if err != nil || !stopped {
		t.Fatalf("error %v, stopped %v", err, stopped)
	}
	if emitted < 30 || committed != emitted {
		t.Fatalf("emitted %d, committed %d", emitted, committed)
	}
}

// TestOrderedBounded: a stalled committer, or a stalled first item while the other worker goes on,
// stops the producer once Queue+Results+2×Workers items are in flight.
func TestOrderedBounded(t *testing.T) {
	noLeak(t)
	for _, stall := range []string{"commit", "work"} {
		release := make(chan struct{})
		var emitted atomic.Int32
		done := make(chan error)
		go func() {
			done <- Ordered(context.Background(), Config{Workers: 2, Queue: 3, Results: 4},
				func(ctx context.Context, emit func(int) error) error {
					for i := range 1000 {
						if err := emit(i); err != nil {
							return err
						}
						emitted.Add(1)
					}
					return nil
				},
				func(ctx context.Context, _ int, v int) (int, error) {
					if stall == "work" && v == 0 {
						<-release
					}
					return v, nil
				},
				func(_ context.Context, v int) error {
					if stall == "commit" && v == 0 {
						<-release
					}
					return nil
				})
		}()
		time.Sleep(50 * time.Millisecond)
		if n := emitted.Load(); n > 3+4+2*2 {
			t.Errorf("stalled %s: %d items emitted", stall, n)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := emitted.Load(); n != 1000 {
			t.Errorf("stalled %s: %d items emitted in all", stall, n)
		}
	}
}
