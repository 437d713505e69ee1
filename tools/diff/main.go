// Command diff is `make diff`: what the working tree changes in one
// environment against its reviewed goldens (or the templates in another
// directory, such as a pull request's base). It prints each stack's diff as
// `cdk diff` does, a summary of what is added, changed, replaced and
// removed, and the replacement guard's verdict on it, from the same
// implementation (internal/guard) as the gate in `make test`.
//
// Usage (node_modules/.bin first on PATH, as the Makefile sets it):
//
//	go run ./tools/diff ENV GOLDEN_DIR ASSEMBLY_DIR
//
// With GUARD_BASE=REV, the guard's own configuration of REV applies too, as
// in make test.
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/example/platform/internal/guard"
	"github.com/example/platform/lib/config"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go run ./tools/diff ENV GOLDEN_DIR ASSEMBLY_DIR")
		os.Exit(2)
	}
	if err := run(os.Stdout, os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "diff:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, env, goldenDir, assemblyDir string) error {
	deployed, err := guard.Assembly(assemblyDir)
	if err != nil {
		return err
	}
	reviewed, err := guard.Reviewed(guard.Source{Repo: goldenDir}, ".", guard.Identities(deployed))
	if err != nil {
		return err
	}
	guarded, err := guard.ReadGuardedTypes(filepath.Join("tools", "guarded-types.json"))
	if err != nil {
		return err
	}
	allow, err := guard.ReadAllowList(filepath.Join("testdata", "allowed-replacements.json"))
	if err != nil {
		return err
	}
	opts := guard.Options{Guarded: guarded, Allow: allow, PlaceholderAccounts: config.PlaceholderAccounts, Text: true}
	if base := os.Getenv("GUARD_BASE"); base != "" {
		// The guard's own configuration as the base has it, as make test
		// reads it.
		scratch, err := os.MkdirTemp("", "diff-base-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(scratch)
		if opts.BaseGuarded, opts.BaseAllow, err = guard.ReadConfig(guard.Source{Repo: ".", Rev: base, Scratch: scratch},
			filepath.Join("tools", "guarded-types.json"), filepath.Join("testdata", "allowed-replacements.json")); err != nil {
			return err
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "diff-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	engine := guard.Engine{Node: node, Script: filepath.Join("tools", "cfndiff.js"), Scratch: scratch}
	review, err := engine.Review([]guard.Comparison{{Label: env, Reviewed: reviewed, Deployed: deployed}}, opts)
	if err != nil {
		return err
	}
	report(w, env, review, guarded)
	return nil
}

// report prints each stack's diff, the summary and the verdict.
func report(w io.Writer, env string, r guard.Review, guarded map[string]string) {
	var changed []string
	added, updated := 0, 0
	for _, g := range r.Gone {
		what := "removed from the app"
		if g.To != nil {
			what = "renamed or moved to " + g.To.String()
		}
		fmt.Fprintf(w, "== %s (%s): stack %s is %s; a deploy leaves it as it is (see the verdict below)\n\n", g.Stack, env, g.From, what)
		changed = append(changed, g.Stack)
	}
	for _, d := range r.Diffs {
		_, stack, _ := strings.Cut(d.Name, "/")
		what := ""
		if strings.HasSuffix(stack, " (new)") {
			stack, what = strings.TrimSuffix(stack, " (new)"), " (new stack)"
		}
		fmt.Fprintf(w, "== %s (%s)%s\n", stack, env, what)
		if d.Empty {
			fmt.Fprint(w, "no differences\n\n")
			continue
		}
		if !slices.Contains(changed, stack) {
			changed = append(changed, stack)
		}
		added += d.Added
		updated += d.Updated
		fmt.Fprint(w, d.Text, "\n")
	}
	var replaced, removed []string
	for _, f := range r.Findings {
		mark := ""
		if why, ok := guarded[f.Type]; ok {
			mark = " [GUARDED: " + why + "]"
		}
		props := ""
		if len(f.Properties) > 0 {
			props = " (" + strings.Join(f.Properties, ", ") + ")"
		}
		if f.RenamedTo != "" {
			props += " (renamed to " + f.RenamedTo + "?)"
		}
		line := fmt.Sprintf("  %s %s/%s %s%s%s", f.Change(), f.Stack, f.LogicalID, f.Type, props, mark)
		if f.Change() == guard.Replace {
			replaced = append(replaced, line)
		} else {
			removed = append(removed, line)
		}
	}
	summary := fmt.Sprintf("Summary (%s): %d of %d stacks changed", env, len(changed), len(r.Diffs)+len(r.Gone)-countNew(r.Diffs, r.Gone))
	if len(changed) > 0 {
		summary += ": " + strings.Join(changed, ", ")
	}
	fmt.Fprintln(w, summary)
	fmt.Fprintf(w, "  resources added: %d, changed: %d, replaced: %d, removed: %d, protections weakened: %d\n", added, updated, len(replaced), len(removed), len(r.Weakenings))
	for _, l := range append(replaced, removed...) {
		fmt.Fprintln(w, l)
	}
	for _, wk := range r.Weakenings {
		fmt.Fprintf(w, "  weaken %s/%s %s: %s %s\n", wk.Stack, wk.LogicalID, wk.Type, wk.What, wk.Detail)
	}
	for _, d := range r.Verdict.Done {
		fmt.Fprintln(w, "Allow-list: "+d)
	}
	if len(r.Verdict.Violations) == 0 {
		fmt.Fprintln(w, "Replacement guard: passes (the same judgement as make test)")
		return
	}
	fmt.Fprintf(w, "Replacement guard: refuses %d change(s); make test fails until each is undone or allowed exactly in testdata/allowed-replacements.json:\n", len(r.Verdict.Violations))
	for _, v := range r.Verdict.Violations {
		fmt.Fprintln(w, "  "+v)
	}
}

// countNew counts the stacks a renamed or moved stack becomes, which the
// summary counts once.
func countNew(diffs []guard.Diff, gone []guard.StackGone) int {
	n := 0
	for _, d := range diffs {
		_, stack, _ := strings.Cut(d.Name, "/")
		if id, isNew := strings.CutSuffix(stack, " (new)"); isNew && slices.ContainsFunc(gone, func(g guard.StackGone) bool { return g.Stack == id }) {
			n++
		}
	}
	return n
}
