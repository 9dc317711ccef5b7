// Package plans loads and validates crmigrate plan files and builds the
// data-model map.
//
// A plan is one YAML file per migration project: the systems (the old CRM,
// the new CRM, extra exports), the objects with their canonical keys,
// per-system mappings and typed fields, the dedup and merge rules, the
// authority per field, validation checks, parallel-run settings, cutover
// gates and the integrations to switch. docs/plan.md is the reference.
//
// Load reads a file, replaces ${VAR} references in scalar values with
// environment variables ($${ is a literal ${) and validates the result
// strictly: unknown keys, wrong types, undefined references, duplicate names
// and keys, missing required keys and invalid values are all errors. Every
// problem is collected in one pass and returned as *Errors, sorted by
// position, each formatted as
//
//	FILE:LINE:COL: what is wrong; how to fix it
//
// Messages never contain the value of an interpolated variable or a
// connection string, since these may hold secrets; they name the variable.
// The command line maps *Errors to exit code 2.
//
// A returned *Plan has every default filled in and keeps source positions
// (Pos, Line) on systems, objects, mappings, fields, columns, checks and
// integrations, so that later phases can point at the plan line that
// describes something they found wrong (Plan.ErrorAt). A plan without a
// `new` system loads (it can be checked and cleaned); phases that write to
// the new CRM call Plan.RequireNew first.
//
// BuildMap turns a plan into a Map, the data-model map that `crmigrate plan
// show` prints through package reports. Neither a Plan marshalled to JSON nor
// a Map contains passwords or tokens.
//
// Loading is pure computation over the file (no network, no database); a
// Plan is read-only after loading and safe for concurrent use.
package plans
