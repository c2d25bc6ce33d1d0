package cli

import (
	"fmt"
	"io"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// dryRun asks the host for the plan of a change and prints it, changing
// nothing: the same checks as the call (a plan that the call would refuse
// exits as the call would), then the steps, in order.
func (rt *runCtx) dryRun(p api.PlanParams) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	plan, err := c.UserPlan(rt.ctx, p)
	if err != nil {
		return err
	}
	failed := 0
	for _, it := range plan.Items {
		if it.Error != nil {
			failed++
		}
	}
	if err := rt.emit(plan, func(w io.Writer) { writePlan(w, plan) }); err != nil {
		return err
	}
	if failed > 0 {
		return partialf("dry run: %d of %d users would not be created", failed, len(plan.Items))
	}
	return nil
}

// writePlan prints each user's steps, or why it would fail.
func writePlan(w io.Writer, plan api.PlanResult) {
	for _, it := range plan.Items {
		if it.Error != nil {
			fmt.Fprintf(w, "dry run: %s %s would fail: %s\n", plan.Method, it.Name, batchError(it.Error))
			continue
		}
		fmt.Fprintf(w, "dry run: %s %s would, changing nothing now:\n", plan.Method, it.Name)
		for i, st := range it.Steps {
			fmt.Fprintf(w, "  %d. %s: %s\n", i+1, st.Step, st.Detail)
		}
	}
}
