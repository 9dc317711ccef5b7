package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/internal/workspace"
	"github.com/crmigrate/crmigrate/reports"
	"github.com/crmigrate/crmigrate/state"
)

// parallelReviewCommand is `parallel-run review`: the differences reconcile leaves to a person
// (authority review, or most_recent without change times), and their decisions.
func parallelReviewCommand() *cli.Command {
	return &cli.Command{
		Name:  "review",
		Usage: "decide which side is right where the plan leaves it to a person (authority review)",
		Description: "reconcile puts every difference of a field whose authority is review (or most_recent without\n" +
			"change times) here, pending. Say which side is right with `decide --side old|new ID...`: the next\n" +
			"reconcile writes old's value to new (old), or leaves new's value and lists it for old (new). A\n" +
			"decision holds for the values it was made on: when either side changes, the review is pending again.",
		OnUsageError: onUsageError,
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the differences to decide (id, object, record, field, both values, status)",
				Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
					&cli.StringFlag{Name: "status", Value: "pending", Usage: "pending, old, new or all"},
					&cli.StringFlag{Name: "object", Usage: "only differences of `OBJECT`"},
					&cli.BoolFlag{Name: "show-pii", Usage: "show emails and phone numbers unmasked"},
				}, formatFlags("table", "json")...),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
					format, err := formatOf(c, "table", "json")
					if err != nil {
						return err
					}
					status := c.String("status")
					switch status {
					case "all":
						status = ""
					case state.AuthorityPending, state.AuthorityOld, state.AuthorityNew:
					default:
						return usageError("unknown --status %q; use pending, old, new or all", status)
					}
					return withReview(c, func(ws *workspace.Workspace, db *state.DB) error {
						rows, err := db.AuthorityReviews(c.Context, ws.Plan.Name, status, c.String("object"))
						if err != nil {
							return err
						}
						return reports.RenderAuthorityReviews(c.App.Writer, ws.Plan, rows, format, c.Bool("show-pii"))
					})
				},
			},
			{
				Name:      "decide",
				Usage:     "say which side is right for differences by id (audited); the next reconcile applies it",
				ArgsUsage: "ID [ID...]",
				Flags: []cli.Flag{planFlag(), stateURLFlag(),
					&cli.StringFlag{Name: "side", Required: true, Usage: "old (old's value is right: written to new), new (new's value is right), or pending (take the decision back)"},
				},
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
					side := c.String("side")
					if side != state.AuthorityOld && side != state.AuthorityNew && side != state.AuthorityPending {
						return usageError("unknown --side %q; use old, new or pending", side)
					}
					if !c.Args().Present() {
						return usageError("give the review id(s) from `crmigrate parallel-run review list`")
					}
					var ids []int64
					for _, a := range c.Args().Slice() {
						id, err := strconv.ParseInt(a, 10, 64)
						if err != nil || id <= 0 {
							return usageError("%q is not a review id; ids are positive numbers from `crmigrate parallel-run review list`", a)
						}
						ids = append(ids, id)
					}
					return withReview(c, func(ws *workspace.Workspace, db *state.DB) error {
						if err := db.DecideAuthorityReviews(c.Context, ws.Plan.Name, ids, side); err != nil {
							if errors.Is(err, state.ErrNoSuchReview) {
								return usageError("%v; see `crmigrate parallel-run review list --status all`", err)
							}
							return err
						}
						fmt.Fprintf(c.App.Writer, "%d difference(s) decided %s; run `crmigrate parallel-run reconcile` to apply\n", len(ids), side)
						return nil
					})
				},
			},
		},
	}
}
