package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/clean"
	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/workspace"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/reports"
	"github.com/crmigrate/crmigrate/state"
)

func cleanCommand() *cli.Command {
	return &cli.Command{
		Name:  "clean",
		Usage: "read every source system, normalize, find duplicates, merge them into golden records, and stage them in the control database",
		Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
			&cli.StringFlag{Name: "export-clusters", Usage: "write every source record's cluster to `FILE` (CSV: object,source,source_id,cluster_id,decision,score)"},
			&cli.IntFlag{Name: "workers", Value: 0, EnvVars: []string{"CRMIGRATE_WORKERS"}, Usage: "goroutines for normalization and comparison (default: one per core)"},
		}, formatFlags("table", "json")...),
		OnUsageError: onUsageError,
		Action:       runClean,
	}
}

func runClean(c *cli.Context) error {
	format, err := formatOf(c, "table", "json")
	if err != nil {
		return err
	}
	ws, err := openWorkspace(c, false)
	if err != nil {
		return err
	}
	defer ws.Close()
	sum, err := cleanPhase(c, ws, c.Int("workers"))
	var checkFailed *phase.CheckFailedError
	if err != nil && !errors.As(err, &checkFailed) {
		return err
	}
	if err := reports.RenderCleanSummary(c.App.Writer, sum, format); err != nil {
		return err
	}
	if path := c.String("export-clusters"); path != "" {
		db, err := ws.State(c.Context)
		if err != nil {
			return err
		}
		if err := exportClusters(c, db, ws.Plan.Name, path); err != nil {
			return err
		}
	}
	if checkFailed != nil { // the summary says why
		return &ExitCodeError{Code: ExitFailed}
	}
	return nil
}

// cleanPhase runs clean as a recorded run of the plan. A clean that ran to its end but did not
// pass its checks returns its summary and a *phase.CheckFailedError.
func cleanPhase(c *cli.Context, ws *workspace.Workspace, workers int) (*clean.Summary, error) {
	rn, err := phaseRunner(c, ws)
	if err != nil {
		return nil, err
	}
	p := ws.Plan
	return phase.Execute(c.Context, rn, phase.Clean, phase.Options{}, func(ctx context.Context, run *phase.Run) (*clean.Summary, error) {
		if os.Getenv("GOMEMLIMIT") == "" { // GOMEMLIMIT overrides it (GOMEMLIMIT=off for none)
			defer softMemoryLimit(cleanMemoryLimit)()
		}
		stopPeak := heapPeakProfile(os.Getenv("CRMIGRATE_HEAPPEAK"))
		prog := newProgress(c.App.ErrWriter)
		sum, err := clean.Run(ctx, p, clean.Options{DB: rn.DB, RunID: run.ID, Workers: workers,
			Env: crm.Env{Plan: p, URL: ws.SystemURL}, Progress: prog.clean})
		prog.done()
		stopPeak()
		if sum != nil {
			sum.PeakRSSMB = peakRSSMB()
		}
		return sum, err
	})
}

// exportClusters writes the staged clusters as CSV, atomically.
func exportClusters(c *cli.Context, db *state.DB, plan, path string) error {
	n := 0
	err := writeAtomically(c, path, func(out io.Writer) error {
		w := csv.NewWriter(out)
		_ = w.Write([]string{"object", "source", "source_id", "cluster_id", "decision", "score"})
		err := db.EachClusterMember(c.Context, plan, func(r state.ClusterRow) error {
			score := ""
			switch r.Decision {
			case "single":
			case "exact":
				score = "1"
			default:
				score = strconv.FormatFloat(r.Score, 'f', 4, 64)
			}
			n++
			return w.Write([]string{r.Object, r.Source, r.SourceID, r.GoldenID, r.Decision, score})
		})
		w.Flush()
		if err == nil {
			err = w.Error()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("export clusters: %w", err)
	}
	fmt.Fprintf(c.App.ErrWriter, "crmigrate: wrote %d records' clusters to %s\n", n, path)
	return nil
}

// cleanMemoryLimit is the Go heap's soft limit during clean when GOMEMLIMIT is not set (see
// softMemoryLimit). The live heap of a clean at 1M contacts peaks near 1.2 GiB (see
// bench/README.md); the limit keeps the garbage collector's headroom from doubling that.
const cleanMemoryLimit = 1536 << 20

// softMemoryLimit sets the Go heap's soft limit to the larger of base and 1.25 times the live
// heap, re-evaluated after each garbage collection, until the returned function is called (which
// restores the previous limit). Below base the collector runs as usual (GOGC); near it, it runs
// more often instead of letting the heap grow to twice what is live; and a live heap above base
// (a larger input) keeps a quarter of headroom rather than making the collector run without end.
func softMemoryLimit(base int64) func() {
	prev := debug.SetMemoryLimit(base)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		limit := base
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			live := int64(sample[0].Value.Uint64())
			if want := max(base, live+live/4); want != limit {
				limit = want
				debug.SetMemoryLimit(limit)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		debug.SetMemoryLimit(prev)
	}
}

// peakRSSMB is this process's peak resident memory in MiB.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

// heapPeakProfile, when path is not empty, writes a heap profile to path each time the live heap
// (as measured by the last garbage collection) reaches a new high, so the file ends up describing
// what was live at the peak (for benchmarks; see bench/README.md). It returns a function that
// stops the sampling.
func heapPeakProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var high uint64
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if live := sample[0].Value.Uint64(); live > high+high/20 {
				high = live
				if f, err := os.Create(path); err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
	return func() { close(stop); <-done }
}
