// Command crmigrate moves a B2B company from an old CRM to a new one: plan, clean, migrate,
// validate, run both in parallel, cut over. This file wires flags to the packages and renders their
// results; it holds no migration logic.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/plans"
)

// Exit codes scripts can rely on.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitUsage   = 2 // bad command line or bad plan
	ExitFailed  = 3 // a check failed: differences over threshold, NO-GO
	ExitAborted = 130
)

// ExitCodeError carries an exit code out of a command. Err may be nil when the command already
// printed what the user needs.
type ExitCodeError struct {
	Err  error
	Code int
}

func (e *ExitCodeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitCodeError) Unwrap() error { return e.Err }

func usageError(format string, args ...any) error {
	return &ExitCodeError{Err: fmt.Errorf(format, args...), Code: ExitUsage}
}

func main() {
	stop := startProfiles()
	code := Main(context.Background(), os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// startProfiles writes CPU and heap profiles when CRMIGRATE_CPUPROFILE or CRMIGRATE_MEMPROFILE name
// a file (for benchmarks; see bench/README.md).
func startProfiles() func() {
	var stops []func()
	if path := os.Getenv("CRMIGRATE_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv("CRMIGRATE_MEMPROFILE"); path != "" {
		stops = append(stops, func() {
			if f, err := os.Create(path); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}

// Main runs crmigrate with args (args[0] is the program name) and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return mainEnv(ctx, args, stdout, stderr, os.LookupEnv)
}

// mainEnv is Main with lookupEnv resolving the plan's ${VAR} references instead of the process
// environment (tests give each run its own variables, so they can run in parallel).
func mainEnv(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	ctx, stop := interruptible(ctx, stderr)
	defer stop()
	err := runApp(ctx, newApp(stdout, stderr, lookupEnv), args)
	return exitCode(err, stderr)
}

// exitCode is the one place that maps errors to exit codes and prints them.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var planErrs *plans.Errors
	if errors.As(err, &planErrs) {
		fmt.Fprintln(stderr, planErrs.Error())
		return ExitUsage
	}
	var checkFailed *phase.CheckFailedError
	if errors.As(err, &checkFailed) && !errors.As(err, new(*ExitCodeError)) {
		fmt.Fprintln(stderr, "crmigrate:", err)
		return ExitFailed
	}
	var ec *ExitCodeError
	if errors.As(err, &ec) {
		if ec.Err != nil {
			fmt.Fprintln(stderr, "crmigrate:", ec.Err)
		}
		return ec.Code
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "crmigrate: interrupted:", err)
		return ExitError
	}
	fmt.Fprintln(stderr, "crmigrate:", err)
	return ExitError
}

// interruptible cancels the context on the first Ctrl-C (the command finishes its current batch
// and checkpoints) and exits at once on the second.
func interruptible(parent context.Context, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			fmt.Fprintln(stderr, "crmigrate: stopping after the current step; press Ctrl-C again to abort")
			cancel()
		case <-done:
			return
		}
		select {
		case <-sig:
			fmt.Fprintln(stderr, "crmigrate: aborted")
			os.Exit(ExitAborted)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sig)
		close(done)
		cancel()
	}
}
