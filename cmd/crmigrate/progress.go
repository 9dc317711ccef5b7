package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/crmigrate/crmigrate/clean"
	"github.com/crmigrate/crmigrate/migrate"
)

// progress shows progress bars on stderr when it is a terminal, and nothing otherwise.
type progress struct {
	w   io.Writer
	on  bool
	bar *progressbar.ProgressBar
	key string
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) start(key, desc string, total int64) {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	p.key = key
	if total <= 0 {
		total = -1
	}
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)
}

// clean receives clean's progress events.
func (p *progress) clean(e clean.Event) {
	if !p.on {
		return
	}
	key := e.Object + "/" + e.Source + "/" + e.Stage
	if key != p.key {
		desc := fmt.Sprintf("%-8s %s", e.Stage, e.Object)
		if e.Source != "" {
			desc += " from " + e.Source
		}
		p.start(key, desc, e.Total)
	}
	_ = p.bar.Set64(e.Done)
}

// migrate receives migrate's progress events: one bar per object.
func (p *progress) migrate(e migrate.Event) {
	if !p.on {
		return
	}
	if key := "migrate/" + e.Object; key != p.key {
		p.start(key, fmt.Sprintf("migrate  %s", e.Object), e.Total)
	}
	_ = p.bar.Set64(e.Done)
}

func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

// validate is told which object and side validate reads.
func (p *progress) validate(object, side string) {
	if !p.on {
		return
	}
	p.start("validate/"+object+"/"+side, fmt.Sprintf("validate %s: reading %s", object, side), -1)
}
