package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/crmigrate/crmigrate/migrate"
)

// migrateReport prints a migrate run's figures: records/s, peak memory, where the time went.
func migrateReport(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var s migrate.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("golden records read %d (inserted %d, updated %d, unchanged %d, rejected %d)\n", s.Read, s.Inserted, s.Updated, s.Unchanged, s.Rejected)
	fmt.Printf("wall time           %.1f s\n", s.Seconds)
	if s.Seconds > 0 {
		fmt.Printf("records/s           %.0f\n", float64(s.Read)/s.Seconds)
	}
	fmt.Printf("peak RSS            %.0f MiB\n", s.PeakRSSMB)
	for _, o := range s.Objects {
		t := o.Timing
		fmt.Printf("%-10s %-14s read %8d  inserted %8d  updated %7d  unchanged %8d  rejected %6d  %6.1f s  %7.0f/s  (worker-seconds: read %.1f, journal %.1f, write %.1f, record %.1f)\n",
			o.Object, o.Table, o.Read, o.Inserted, o.Updated, o.Unchanged, o.Rejected, o.Seconds, o.PerSecond, t.Read, t.Journal, t.Write, t.Record)
	}
}
