package main

import (
	"context"
	"fmt"
	"io"

	"hmpps/hmpps/eval"
)

// randomSeeds is how many seeds the random baseline's sanity check averages:
// one seed's HR@10 over some 300 users moves by about ±0.03, the mean of a
// hundred by a tenth of that.
const randomSeeds = 100

// protocolCheck is what the report says to show that the protocol is sound
// and what the hard mode makes of this catalog.
type protocolCheck struct {
	Mode string `json:"mode"`
	// RandomHR10 is the random baseline's test HR@10 averaged over
	// randomSeeds seeds; with C candidates it should be close to 10/C.
	RandomHR10 float64 `json:"random_hr10_mean_over_seeds"`
	// Expected is 10/C averaged over tasks.
	Expected float64 `json:"random_hr10_expected"`
	// SamePath and SameLevel2 are the mean numbers of negatives per test
	// target that share its whole category path, and its first two levels.
	SamePath   float64 `json:"negatives_same_path"`
	SameLevel2 float64 `json:"negatives_same_level2"`
}

func checkProtocol(ctx context.Context, d *eval.Dataset, s *eval.Split) (protocolCheck, error) {
	tasks := s.Tasks(eval.Test)
	c := protocolCheck{Mode: string(s.Mode)}
	for seed := uint64(0); seed < randomSeeds; seed++ {
		rep, err := eval.Evaluate(ctx, tasks, []eval.Method{eval.Random{Seed: 1000 + seed}}, eval.Options{BootstrapSamples: 1})
		if err != nil {
			return c, err
		}
		c.RandomHR10 += eval.HR10.Mean(rep.Methods[0].Ranks) / randomSeeds
	}
	for _, t := range tasks {
		c.Expected += min(10/float64(len(t.Candidates)), 1) / float64(len(tasks))
		target, _ := d.Product(t.Target)
		for _, id := range t.Candidates {
			if id == t.Target {
				continue
			}
			p, _ := d.Product(id)
			n := sharedLevels(p.Category, target.Category)
			if n == len(target.Category) && n == len(p.Category) {
				c.SamePath += 1 / float64(len(tasks))
			}
			if n >= 2 {
				c.SameLevel2 += 1 / float64(len(tasks))
			}
		}
	}
	return c, nil
}

func sharedLevels(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func writeChecks(w io.Writer, checks []protocolCheck) {
	for _, c := range checks {
		fmt.Fprintf(w, "- %s negatives: random baseline HR@10 averaged over %d seeds = %.3f (expected %.3f); "+
			"per test target, %.1f negatives share its whole category path and %.1f its first two levels.\n",
			c.Mode, randomSeeds, c.RandomHR10, c.Expected, c.SamePath, c.SameLevel2)
	}
}
