// Command report prints the figures of a benchmark run from crmigrate's JSON output. It is used by
// the scripts in bench/; it is not part of crmigrate.
//
//	go run ./bench/report clean FILE.json     # from crmigrate clean --json or crmigrate demo --json
//	go run ./bench/report migrate FILE.json   # from crmigrate migrate --json
//	go run ./bench/report clean-lower-bound PLAN OLD_URL CONTROL_URL WORKDIR
//	go run ./bench/report validate FILE.json RSS_KIB  # from crmigrate validate --plan … --json
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/crmigrate/crmigrate/clean"
)

func main() {
	if len(os.Args) == 6 && os.Args[1] == "clean-lower-bound" {
		cleanLowerBound(os.Args[2], os.Args[3], os.Args[4], os.Args[5])
		return
	}
	if len(os.Args) == 4 && os.Args[1] == "validate" {
		validateReport(os.Args[2], os.Args[3])
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "migrate" {
		migrateReport(os.Args[2])
		return
	}
	if len(os.Args) != 3 || os.Args[1] != "clean" {
		fmt.Fprintln(os.Stderr, "usage: report clean|migrate FILE.json")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Either a clean summary (crmigrate clean --json) or a demo result holding one (demo --json).
	var s clean.Summary
	var demo struct {
		Clean *clean.Summary `json:"clean"`
	}
	if err := json.Unmarshal(b, &demo); err == nil && demo.Clean != nil {
		s = *demo.Clean
	} else if err := json.Unmarshal(b, &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	t := s.Timing
	total := s.Seconds
	share := func(x float64) string { return fmt.Sprintf("%5.1f%%", 100*x/total) }
	fmt.Printf("records read        %d (rejected %d)\n", s.Read, s.Rejected)
	fmt.Printf("wall time           %.1f s\n", total)
	fmt.Printf("records/s           %.0f\n", s.RecordsPerSec)
	fmt.Printf("peak RSS            %.0f MiB\n", s.PeakRSSMB)
	fmt.Printf("share of wall time  reading %s (of which waiting for PostgreSQL %s)\n", share(t.Read), share(t.Source))
	fmt.Printf("                    normalization %.1f CPU-s across workers (overlaps reading)\n", t.Normalize)
	fmt.Printf("                    blocking %s, learning (EM) %s, comparison %s, clustering %s\n", share(t.Blocking), share(t.Learning), share(t.Comparison), share(t.Clustering))
	fmt.Printf("                    merge %s, writing %s\n", share(t.Merge), share(t.Write))
	for _, o := range s.Objects {
		fmt.Printf("%-10s read %8d  golden %8d  exact dups %7d  fuzzy dups %7d  review %6d  comparisons %d\n",
			o.Object, o.Read, o.Golden, o.ExactDuplicates, o.FuzzyDuplicates, o.Review, o.Comparisons)
	}
}
