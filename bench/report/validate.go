package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/crmigrate/crmigrate/validate"
)

// validateReport prints a validation's figures (crmigrate validate --plan … --json) with the peak
// RSS measured by /usr/bin/time (KiB).
func validateReport(path, rssKiB string) {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var r validate.Result
	if err := json.Unmarshal(b, &r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var old, new int64
	for _, o := range r.Objects {
		old += o.Old
		new += o.New
	}
	rss, _ := strconv.ParseInt(rssKiB, 10, 64)
	fmt.Printf("result              %s (%d checks)\n", r.Result, len(r.Checks))
	fmt.Printf("records             %d expected, %d in new\n", old, new)
	fmt.Printf("validate            %.1f s (%.0f expected and %.0f new records/s)\n", r.Seconds, float64(old)/r.Seconds, float64(new)/r.Seconds)
	fmt.Printf("peak RSS            %d MiB\n", rss/1024)
	for _, o := range r.Objects {
		t := o.Seconds
		fmt.Printf("  %-9s identical %9d of %9d matched; missing in new %d (refused %d); index %.1f s, old %.1f s, new %.1f s\n",
			o.Object, o.Identical, o.Matched, o.MissingInNew, o.RefusedInNew, t.Index, t.Old, t.New)
	}
}
