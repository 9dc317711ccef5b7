package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/internal/atomicfile"
	"github.com/crmigrate/crmigrate/internal/sheet"
	"github.com/crmigrate/crmigrate/internal/workspace"
	"github.com/crmigrate/crmigrate/merge"
	"github.com/crmigrate/crmigrate/normalize"
	"github.com/crmigrate/crmigrate/reports"
	"github.com/crmigrate/crmigrate/state"
)

func reviewCommand() *cli.Command {
	common := func(extra ...cli.Flag) []cli.Flag {
		return append([]cli.Flag{planFlag(), stateURLFlag()}, extra...)
	}
	piiFlag := &cli.BoolFlag{Name: "show-pii", Usage: "show emails and phone numbers unmasked"}
	return &cli.Command{
		Name:  "review",
		Usage: "decide the pairs of records that clean found possibly the same: list, show, accept, reject, export to CSV and import back",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list pairs waiting for a decision (id, object, score, both records' key fields)",
				Flags: common(append([]cli.Flag{
					&cli.StringFlag{Name: "object", Usage: "only pairs of this object"},
					&cli.StringFlag{Name: "status", Value: "pending", Usage: "pending (of the latest clean), accepted, rejected or all"},
					&cli.IntFlag{Name: "limit", Value: 100, Usage: "at most this many pairs (0: all)"},
					piiFlag,
				}, formatFlags("table", "json")...)...),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
					return withReview(c, func(ws *workspace.Workspace, db *state.DB) error {
						format, err := formatOf(c, "table", "json")
						if err != nil {
							return err
						}
						status := c.String("status")
						switch status {
						case "pending":
							status = ""
						case "accepted", "rejected", "all":
						default:
							return usageError("unknown --status %q; use pending, accepted, rejected or all", status)
						}
						rows, err := db.ReviewList(c.Context, ws.Plan.Name, c.String("object"), status, c.Int("limit"))
						if err != nil {
							return err
						}
						return reports.RenderReviewList(c.App.Writer, ws.Plan, rows, format, c.Bool("show-pii"))
					})
				},
			},
			{
				Name:         "show",
				Usage:        "show one pair side by side, with each field's similarity and the merged record the plan's rules would produce",
				ArgsUsage:    "ID",
				Flags:        common(append([]cli.Flag{piiFlag}, formatFlags("table", "json")...)...),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
					return withReview(c, func(ws *workspace.Workspace, db *state.DB) error {
						format, err := formatOf(c, "table", "json")
						if err != nil {
							return err
						}
						ids, err := pairIDs(c, 1)
						if err != nil {
							return err
						}
						r, err := db.ReviewGet(c.Context, ws.Plan.Name, ids[0])
						if err != nil {
							return err
						}
						var merged, prov []string
						if o := ws.Plan.Object(r.Object); o != nil && r.AVals != nil && r.BVals != nil {
							m := merge.Cluster(o.Fields, []merge.Member{
								{Source: r.ASource, SourceIdx: sysIndex(ws, r.ASource), ID: r.AID, Updated: deref(r.AUpdated), Vals: r.AVals},
								{Source: r.BSource, SourceIdx: sysIndex(ws, r.BSource), ID: r.BID, Updated: deref(r.BUpdated), Vals: r.BVals},
							}, merge.ValidatorFor(normalize.New(normalize.OptionsFromPlan(ws.Plan)), o.Fields))
							merged, prov = m.Vals, m.Provenance
						}
						return reports.RenderReviewPair(c.App.Writer, ws.Plan, r, merged, prov, format, c.Bool("show-pii"))
					})
				},
			},
			decideCommand("accept", state.ReviewAccepted),
			decideCommand("reject", state.ReviewRejected),
			{
				Name:  "export",
				Usage: "write the pending pairs to CSV with an empty decision column to fill in (accept/reject) in a spreadsheet",
				Flags: common(&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "-", Usage: "CSV `FILE` (- for stdout)"},
					&cli.StringFlag{Name: "object", Usage: "only pairs of this object"}, piiFlag),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
					return withReview(c, func(ws *workspace.Workspace, db *state.DB) error {
						rows, err := db.ReviewList(c.Context, ws.Plan.Name, c.String("object"), "", 0)
						if err != nil {
							return err
						}
						return writeAtomically(c, c.String("out"), func(w io.Writer) error {
							return reports.WriteReviewCSV(w, ws.Plan, rows, c.Bool("show-pii"))
						})
					})
				},
			},
			{
				Name:         "import",
				Usage:        "apply the decision column of an exported CSV (accept, reject or empty to leave pending); nothing is applied if any line is wrong",
				ArgsUsage:    "FILE",
				Flags:        common(),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
					return withReview(c, func(ws *workspace.Workspace, db *state.DB) error {
						if c.Args().Len() != 1 {
							return usageError("review import takes one CSV file")
						}
						decisions, err := readDecisions(c.Args().First())
						if err != nil {
							return err
						}
						applied := map[string]int{}
						for _, d := range decisions {
							if err := db.ReviewDecide(c.Context, ws.Plan.Name, d.id, d.status); err != nil {
								return fmt.Errorf("line %d: %w (the lines before it were applied)", d.line, err)
							}
							applied[d.status]++
						}
						fmt.Fprintf(c.App.Writer, "applied %d decisions: %d accepted, %d rejected; run `crmigrate clean` to merge the accepted pairs\n",
							len(decisions), applied[state.ReviewAccepted], applied[state.ReviewRejected])
						return nil
					})
				},
			},
		},
	}
}

func decideCommand(name, status string) *cli.Command {
	return &cli.Command{
		Name:         name,
		Usage:        name + " pairs by id (audited); the next clean " + map[string]string{"accept": "merges them", "reject": "keeps them apart and stops asking"}[name],
		ArgsUsage:    "ID [ID...]",
		Flags:        []cli.Flag{planFlag(), stateURLFlag()},
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			return withReview(c, func(ws *workspace.Workspace, db *state.DB) error {
				ids, err := pairIDs(c, -1)
				if err != nil {
					return err
				}
				for _, id := range ids {
					if err := db.ReviewDecide(c.Context, ws.Plan.Name, id, status); err != nil {
						if errors.Is(err, state.ErrNoSuchPair) {
							return usageError("%v; see `crmigrate review list`", err)
						}
						return err
					}
				}
				fmt.Fprintf(c.App.Writer, "%s %d pair(s); run `crmigrate clean` to apply\n", status, len(ids))
				return nil
			})
		},
	}
}

func withReview(c *cli.Context, fn func(*workspace.Workspace, *state.DB) error) error {
	ws, db, err := openState(c)
	if err != nil {
		return err
	}
	defer ws.Close()
	return fn(ws, db)
}

func pairIDs(c *cli.Context, want int) ([]int64, error) {
	if !c.Args().Present() || (want > 0 && c.Args().Len() != want) {
		return nil, usageError("give the pair id(s) from `crmigrate review list`")
	}
	var ids []int64
	for _, a := range c.Args().Slice() {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return nil, usageError("%q is not a pair id; ids are positive numbers from `crmigrate review list`", a)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func sysIndex(ws *workspace.Workspace, name string) int {
	for i, s := range ws.Plan.Systems {
		if s.Name == name {
			return i
		}
	}
	return len(ws.Plan.Systems)
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

type decision struct {
	line   int
	id     int64
	status string
}

// readDecisions reads an exported review CSV; every problem is reported with its line, and none
// is applied when there is one.
func readDecisions(path string) ([]decision, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageError("%v", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, usageError("%s: no header line: %v", path, err)
	}
	idCol, decCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "id":
			idCol = i
		case "decision":
			decCol = i
		}
	}
	if idCol < 0 || decCol < 0 {
		return nil, usageError("%s:1: the header needs the columns id and decision (as `crmigrate review export` writes them)", path)
	}
	var out []decision
	var problems []string
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: %v", path, line, err))
			continue
		}
		if idCol >= len(rec) || decCol >= len(rec) {
			problems = append(problems, fmt.Sprintf("%s:%d: too few columns", path, line))
			continue
		}
		id, err := strconv.ParseInt(strings.TrimSpace(sheet.Uncell(rec[idCol])), 10, 64)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: id %q is not a number", path, line, rec[idCol]))
			continue
		}
		var status string
		switch strings.ToLower(strings.TrimSpace(sheet.Uncell(rec[decCol]))) {
		case "":
			continue
		case "accept", "accepted", "yes", "y", "same", "merge", "1", "true":
			status = state.ReviewAccepted
		case "reject", "rejected", "no", "n", "different", "keep apart", "0", "false":
			status = state.ReviewRejected
		case "pending":
			status = state.ReviewPending
		default:
			problems = append(problems, fmt.Sprintf("%s:%d: decision %q: write accept, reject or leave it empty", path, line, rec[decCol]))
			continue
		}
		out = append(out, decision{line: line, id: id, status: status})
	}
	if len(problems) > 0 {
		return nil, usageError("nothing imported:\n%s", strings.Join(problems, "\n"))
	}
	return out, nil
}

// writeAtomically writes to path through a temporary file renamed at the end ("-": stdout).
func writeAtomically(c *cli.Context, path string, fn func(io.Writer) error) error {
	if path == "-" || path == "" {
		return fn(c.App.Writer)
	}
	return atomicfile.Write(path, 0o600, fn) // review exports and cluster lists hold customers' data
}
