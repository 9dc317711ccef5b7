//go:build tools

package crmigrate

import (
	_ "github.com/jackc/pgx/v5"
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/urfave/cli/v2"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/sync/errgroup"
)
