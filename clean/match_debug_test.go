package clean

import (
	"context"
	"fmt"
	"testing"
)

func TestDebugFEBRL(t *testing.T) {
	a, ea := febrlLoad(t, "dataset4a.csv", "old")
	b, eb := febrlLoad(t, "dataset4b.csv", "marketing")
	recs := append(append([]MatchRecord{}, a...), b...)
	ents := append(append([]string{}, ea...), eb...)
	res, err := Dedup(context.Background(), recs, febrlConfig(0.92))
	if err != nil {
		t.Fatal(err)
	}
	m := res.Model
	fmt.Printf("prior %.4f iters %d conv %v patterns %d pairs %d\n", m.Prior, m.Iterations, m.Converged, m.Patterns, m.Pairs)
	for f := range m.Fields {
		fmt.Printf("%-14s m %.3f u %.3f w %.2f\n", m.Fields[f], m.M[f], m.U[f], m.Weights[f])
	}
	cid := map[int]int{}
	for c, cl := range res.Clusters {
		for _, i := range cl {
			cid[i] = c
		}
	}
	byEnt := map[string][]int{}
	for i, e := range ents {
		byEnt[e] = append(byEnt[e], i)
	}
	sc := &matchScratch{}
	p, _ := matchCompile(febrlConfig(0.92))
	p.prepare(context.Background(), recs)
	for _, is := range byEnt {
		if len(is) == 2 && cid[is[0]] != cid[is[1]] {
			x, y := recs[is[0]], recs[is[1]]
			code := p.pattern(sc, uint32(is[0]), uint32(is[1]))
			fmt.Printf("MISS post %.4f\n  %v\n  %v\n", m.posterior(code), x.Values, y.Values)
		}
	}
	fmt.Println(res.Stats)
}
