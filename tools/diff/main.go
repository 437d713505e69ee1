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
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
	review, err := engine.Review([]guard.Comparison{{Label: env, Reviewed: reviewed, Deployed: deployed}},
		guard.Options{Guarded: guarded, Allow: allow, PlaceholderAccounts: config.PlaceholderAccounts, Text: true})
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
	for _, d := range r.Diffs {
		_, stack, _ := strings.Cut(d.Name, "/")
		what := ""
		switch {
		case r.Gone[d.Name] != "":
			what = " (" + r.Gone[d.Name] + ": everything in it is destroyed or orphaned)"
		case strings.HasSuffix(stack, " (new)"):
			stack, what = strings.TrimSuffix(stack, " (new)"), " (new stack)"
		}
		fmt.Fprintf(w, "== %s (%s)%s\n", stack, env, what)
		if d.Empty {
			fmt.Fprint(w, "no differences\n\n")
			continue
		}
		changed = append(changed, stack)
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
		line := fmt.Sprintf("  %s %s/%s %s%s%s", f.Change(), f.Stack, f.LogicalID, f.Type, props, mark)
		if f.Change() == guard.Replace {
			replaced = append(replaced, line)
		} else {
			removed = append(removed, line)
		}
	}
	summary := fmt.Sprintf("Summary (%s): %d of %d stacks changed", env, len(changed), len(r.Diffs))
	if len(changed) > 0 {
		summary += ": " + strings.Join(changed, ", ")
	}
	fmt.Fprintln(w, summary)
	fmt.Fprintf(w, "  resources added: %d, changed: %d, replaced: %d, removed: %d\n", added, updated, len(replaced), len(removed))
	for _, l := range append(replaced, removed...) {
		fmt.Fprintln(w, l)
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
