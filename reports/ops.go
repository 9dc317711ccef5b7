package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/pglocal"
	"github.com/crmigrate/crmigrate/state"
)

// WriteJSON writes v as indented JSON with a final newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// CheckFormats are the formats of the smaller operational reports.
var CheckFormats = []string{"table", "json"}

func badFormat(format string, valid []string) error {
	return fmt.Errorf("unknown format %q; use one of %s", format, strings.Join(valid, ", "))
}

func simpleTable(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewWriter(w)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

// DBStatus is what `crmigrate db status` shows.
type DBStatus struct {
	pglocal.Info
	Databases []string `json:"databases,omitempty"`
}

// RenderDBStatus renders the private cluster's status.
func RenderDBStatus(w io.Writer, s DBStatus, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, s)
	case "table", "":
	default:
		return badFormat(format, CheckFormats)
	}
	state := "stopped"
	if s.Running {
		state = fmt.Sprintf("running (port %d, pid %d)", s.Port, s.PostmasterPID)
		if s.Kept {
			state += ", kept running until `crmigrate db stop`"
		} else {
			state += ", stops when the last crmigrate process using it exits"
		}
	}
	rows := [][]string{
		{"state", state},
		{"folder", s.Home},
		{"data directory", s.DataDir},
		{"socket directory", s.SocketDir},
		{"server log", s.LogFile},
		{"server user", s.ServerUser},
		{"version", s.Version},
	}
	if s.Running {
		rows = append(rows, []string{"started", s.StartedAt.Local().Format(time.RFC3339)})
	}
	if len(s.Databases) > 0 {
		rows = append(rows, []string{"databases", strings.Join(s.Databases, ", ")})
	}
	return simpleTable(w, []string{"private PostgreSQL", ""}, rows)
}

// RenderRuns renders the runs of a plan, newest first.
func RenderRuns(w io.Writer, runs []state.RunRecord, format string) error {
	switch format {
	case "json":
		if runs == nil {
			runs = []state.RunRecord{}
		}
		return WriteJSON(w, runs)
	case "table", "":
	default:
		return badFormat(format, CheckFormats)
	}
	if len(runs) == 0 {
		_, err := fmt.Fprintln(w, "no runs yet")
		return err
	}
	rows := make([][]string, 0, len(runs))
	for _, r := range runs {
		dur := ""
		if r.EndedAt != nil {
			dur = r.EndedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
		}
		status := r.Status
		if r.Forced {
			status += " (forced)"
		}
		rows = append(rows, []string{strconv.FormatInt(r.ID, 10), r.Phase, status,
			r.StartedAt.Local().Format("2006-01-02 15:04:05"), dur, r.User + "@" + r.Host, countsText(r.Counts), firstLine(r.Error)})
	}
	return simpleTable(w, []string{"run", "phase", "status", "started", "took", "by", "counts", "error"}, rows)
}

func countsText(c map[string]int64) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, c[k]))
	}
	return strings.Join(parts, " ")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// CheckResult is what `crmigrate plan check` found.
type CheckResult struct {
	Plan         string            `json:"plan"`
	File         string            `json:"file"`
	OK           bool              `json:"ok"`
	Systems      int               `json:"systems"`
	Objects      int               `json:"objects"`
	Fields       int               `json:"fields"`
	Integrations int               `json:"integrations"`
	Connected    []crm.SystemCheck `json:"connected,omitempty"`
	Errors       []string          `json:"errors,omitempty"`
}

// RenderCheck renders the outcome of a plan check. Errors are rendered one per line in the
// FILE:LINE:COL form; the caller decides the exit code.
func RenderCheck(w io.Writer, r CheckResult, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, r)
	case "table", "":
	default:
		return badFormat(format, CheckFormats)
	}
	for _, e := range r.Errors {
		if _, err := fmt.Fprintln(w, e); err != nil {
			return err
		}
	}
	if len(r.Connected) > 0 {
		rows := make([][]string, 0, len(r.Connected))
		for _, c := range r.Connected {
			st := "ok"
			if !c.OK {
				st = "PROBLEMS"
				if c.Error != "" {
					st += ": " + c.Error
				}
			}
			rows = append(rows, []string{c.System, c.Kind, strconv.Itoa(c.Checked), st})
		}
		if err := simpleTable(w, []string{"system", "kind", "checked", "result"}, rows); err != nil {
			return err
		}
	}
	if r.OK {
		_, err := fmt.Fprintf(w, "plan %s is valid: %d systems, %d objects, %d fields, %d integrations\n",
			r.Plan, r.Systems, r.Objects, r.Fields, r.Integrations)
		return err
	}
	_, err := fmt.Fprintf(w, "plan %s has %d problem(s)\n", r.File, len(r.Errors))
	return err
}
