package clean

import (
	"context"
	"testing"
)

func TestSweepTmp(t *testing.T) {
	a, ea := febrlLoad(t, "dataset4a.csv", "old")
	b, eb := febrlLoad(t, "dataset4b.csv", "marketing")
	recs4 := append(append([]MatchRecord{}, a...), b...)
	ents4 := append(append([]string{}, ea...), eb...)
	recs1, ents1 := febrlLoad(t, "dataset1.csv", "old")
	for _, am := range []float64{0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999} {
		for _, d := range []struct {
			name string
			recs []MatchRecord
			ents []string
		}{{"ds1", recs1, ents1}, {"ds4", recs4, ents4}} {
			cfg := febrlConfig(am)
			cfg.Review = min(0.5, am)
			res, _ := Dedup(context.Background(), d.recs, cfg)
			p, r, tp, fp, fn := febrlQuality(res.Clusters, d.ents)
			t.Logf("%s am=%.4f P=%.4f R=%.4f tp=%d fp=%d fn=%d review=%d", d.name, am, p, r, tp, fp, fn, len(res.Review))
		}
	}
}
