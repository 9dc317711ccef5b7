package dedup

import (
	"context"
	"runtime"
	"testing"
)

var matchBenchSink float64

func BenchmarkJaroWinkler(b *testing.B) {
	var sc matchScratch
	pairs := [][2]string{{"martha", "marhta"}, {"jonathan", "johnathan"}, {"lindqvist", "lindquist"}, {"erik", "eric"}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := pairs[i%len(pairs)]
		matchBenchSink += sc.jaroWinkler(p[0], p[1])
	}
}

func BenchmarkLevenshtein(b *testing.B) {
	var sc matchScratch
	pairs := [][2]string{{"kitten", "sitting"}, {"tullaroop street", "tullaroop stret"}, {"6988048", "6988084"}, {"lindqvist", "lindquist"}}
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p := pairs[i%len(pairs)]
			matchBenchSink += sc.levenshteinRatio(p[0], p[1])
		}
	})
	b.Run("banded", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p := pairs[i%len(pairs)]
			matchBenchSink += float64(sc.levenshteinLevel(p[0], p[1]))
		}
	})
}

func BenchmarkTokenSet(b *testing.B) {
	var sc matchScratch
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			matchBenchSink += sc.tokenSetRatio("Acme Holding AB", "ACME Holdings Aktiebolag")
		}
	})
	// What Run does: canonical token strings computed once per record,
	// only the level needed per pair.
	x, y := sc.canon("Acme Holding AB"), sc.canon("ACME Holdings Aktiebolag")
	b.Run("level", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			matchBenchSink += float64(sc.level(matchCodeTokenSet, x, y))
		}
	})
}

// matchBenchDedup runs Run on n synthetic contacts of which a fifth are
// near-duplicates (planted typos, missing values) of others.
func matchBenchDedup(b *testing.B, n int) {
	recs := matchGenContacts(n-n/5, n/5, 42)
	cfg := matchContactConfig()
	b.ReportAllocs()
	var res *Result
	for b.Loop() {
		var err error
		res, err = Run(context.Background(), recs, cfg)
		if err != nil {
			b.Fatal(err)
		}
	}
	s := res.Stats
	b.ReportMetric(float64(s.CandidatePairs), "pairs")
	b.ReportMetric(float64(n)/s.Total.Seconds()*60, "records/min")
	b.Logf("n=%d workers=%d pairs=%d blocking=%v comparison=%v learning=%v clustering=%v total=%v auto=%d review=%d",
		n, runtime.GOMAXPROCS(0), s.CandidatePairs, s.Blocking, s.Comparison, s.Learning, s.Clustering, s.Total, s.AutoLinks, s.ReviewPairs)
}

func BenchmarkDedup100k(b *testing.B) { matchBenchDedup(b, 100_000) }

func BenchmarkDedup1M(b *testing.B) {
	if testing.Short() {
		b.Skip("1M records")
	}
	matchBenchDedup(b, 1_000_000)
}
