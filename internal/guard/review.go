package guard

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/example/platform/internal/cfn"
)

// Options are what a review takes besides the comparisons.
type Options struct {
	// Guarded maps each resource type that holds data or identity outside
	// AWS to why (tools/guarded-types.json); BaseGuarded is that list as
	// the base revision has it. Both apply, so a change cannot silence the
	// guard by shrinking the list, and each type it drops is a weakening.
	Guarded, BaseGuarded map[string]string
	// Allow lists the intended changes (testdata/allowed-replacements.json);
	// BaseAllow is that list as the base revision has it.
	Allow, BaseAllow []Entry
	// CheckStale reports allow-list entries that match no change.
	CheckStale bool
	// PlaceholderAccounts are accounts a reviewed stack may move from
	// without moving (SameStack).
	PlaceholderAccounts []string
	// Text renders each stack's diff as `cdk diff` prints it.
	Text bool
}

// Review is what the diff engine found in each pair of stacks (named
// LABEL/STACK, or LABEL/STACK (new) for a stack only the deployed side
// has), the changes the guard judges, and the verdict on them.
type Review struct {
	Diffs      []Diff
	Findings   []Finding
	Weakenings []Weakening
	Reroutes   []Rerouting
	Migrations []Migration
	// Gone are the reviewed stacks the change takes out of the app; the
	// engine does not diff them (nothing of them is deleted by a deploy).
	Gone    []StackGone
	Verdict Verdict
}

// Review pairs the reviewed and deployed stacks of every comparison by
// identity, runs the diff engine over all pairs that changed in one Node
// process and judges every change: the one implementation behind the gate
// in `make test` and the summary of `make diff`.
func (e Engine) Review(cs []Comparison, o Options) (Review, error) {
	guarded := maps.Clone(o.BaseGuarded)
	if guarded == nil {
		guarded = map[string]string{}
	}
	maps.Copy(guarded, o.Guarded)
	var r Review
	var pairs []Pair
	// Pairs of equal templates need no diff engine: most stacks of most
	// comparisons do not change.
	var same []string
	shared := map[string][]string{}
	reviewedCount := map[string]int{}
	var removed []RemovedExport
	// Every pair that exists on both sides, for the routing check, which
	// needs the engine's replacements.
	type both struct {
		label              string
		reviewed, deployed Stack
	}
	var pairedStacks []both
	for _, c := range cs {
		reviewedCount[c.Label] = len(c.Reviewed)
		reviewed, deployed := map[string]cfn.Template{}, map[string]cfn.Template{}
		paired := map[string]bool{}
		for _, a := range c.Deployed {
			deployed[a.ID] = a.Template
		}
		for _, b := range c.Reviewed {
			name := c.Label + "/" + b.ID
			if b.Template != nil {
				reviewed[b.ID] = b.Template
			}
			i := slices.IndexFunc(c.Deployed, func(a Stack) bool { return SameStack(b.Identity, a.Identity, o.PlaceholderAccounts) })
			if i < 0 {
				g := StackGone{Env: c.Label, Stack: b.ID, From: b.Identity, Holds: map[string]int{}}
				if j := slices.IndexFunc(c.Deployed, func(a Stack) bool { return a.ID == b.ID }); j >= 0 {
					to := c.Deployed[j].Identity
					g.To = &to
				}
				cfn.Each(map[string]cfn.Template{b.ID: b.Template}, "", func(_, _ string, res map[string]any) {
					g.Resources++
					if typ, _ := res["Type"].(string); guarded[typ] != "" {
						g.Holds[typ]++
					}
				})
				r.Gone = append(r.Gone, g)
				continue
			}
			d := c.Deployed[i]
			paired[d.ID] = true
			if b.Template != nil {
				r.Weakenings = append(r.Weakenings, pairWeakenings(c.Label, b, d)...)
				pairedStacks = append(pairedStacks, both{c.Label, b, d})
			}
			if b.Template != nil && reflect.DeepEqual(b.Template, d.Template) {
				same = append(same, name)
				continue
			}
			pairs = append(pairs, Pair{name, b.File, d.File})
		}
		// A new stack loses nothing; only a reader of the diff needs it.
		for _, a := range c.Deployed {
			if !paired[a.ID] && o.Text {
				pairs = append(pairs, Pair{c.Label + "/" + a.ID + " (new)", "", a.File})
			}
		}
		for key, consumers := range SharedResources(reviewed) {
			shared[c.Label+"/"+key] = consumers
		}
		removed = append(removed, RemovedExports(c.Label, reviewed, c.Deployed)...)
		r.Weakenings = append(r.Weakenings, openedFlows(c.Label, reviewed, deployed)...)
		for _, typ := range sortedKeys(o.BaseGuarded) {
			if _, kept := o.Guarded[typ]; !kept {
				r.Weakenings = append(r.Weakenings, Weakening{Env: c.Label, Stack: "(guard)", LogicalID: typ, Type: "guarded type", What: "guarded type",
					Detail: "removed from tools/guarded-types.json", Why: "the guard would no longer protect it: " + o.BaseGuarded[typ]})
			}
		}
	}
	diffs, err := e.Run(pairs, o.Text)
	if err != nil {
		return Review{}, err
	}
	for _, name := range same {
		diffs = append(diffs, Diff{Name: name, Empty: true})
	}
	slices.SortStableFunc(diffs, func(a, b Diff) int { return strings.Compare(a.Name, b.Name) })
	r.Diffs = diffs
	for _, d := range diffs {
		label, stack, _ := strings.Cut(d.Name, "/")
		additions := slices.Clone(d.Additions)
		for _, c := range d.Changes {
			f := Finding{Env: label, Stack: stack, LogicalID: c.LogicalID, Type: c.Type, Impact: c.Impact, Properties: c.Properties}
			if f.Change() != Replace {
				if i := slices.IndexFunc(additions, func(a Addition) bool { return a.Type == c.Type }); i >= 0 {
					f.RenamedTo = additions[i].LogicalID
					additions = slices.Delete(additions, i, i+1)
				}
			}
			r.Findings = append(r.Findings, f)
		}
	}
	for _, p := range pairedStacks {
		var replaced []string
		for _, f := range r.Findings {
			if f.Env == p.label && f.Stack == p.reviewed.ID && f.Change() == Replace {
				replaced = append(replaced, f.LogicalID)
			}
		}
		r.Reroutes = append(r.Reroutes, pairReroutes(p.label, p.reviewed, p.deployed, replaced)...)
		r.Migrations = append(r.Migrations, pairMigrations(p.label, p.reviewed, p.deployed)...)
	}
	r.Verdict = Judge(Input{Findings: r.Findings, Weakenings: r.Weakenings, Reroutes: r.Reroutes, Migrations: r.Migrations, Gone: r.Gone, Reviewed: reviewedCount, Guarded: guarded, Shared: shared,
		Allow: o.Allow, BaseAllow: o.BaseAllow, CheckStale: o.CheckStale, RemovedExports: removed})
	return r, nil
}

// SharedResources maps "STACK/LOGICALID" of every resource whose attribute
// one stack exports and another imports to the importing stacks.
func SharedResources(templates map[string]cfn.Template) map[string][]string {
	out := map[string][]string{}
	exports := cfn.Exports(templates)
	for _, imp := range cfn.Imports(templates) {
		if imp.Consumer == "" || imp.Consumer == imp.Producer {
			continue
		}
		if id := cfn.RefID(exports[imp.Export].Value); id != "" {
			key := imp.Producer + "/" + id
			if !slices.Contains(out[key], imp.Consumer) {
				out[key] = append(out[key], imp.Consumer)
				slices.Sort(out[key])
			}
		}
	}
	return out
}

// RemovedExports are the exports the reviewed templates produce and
// import across stacks that the deployed templates no longer produce.
func RemovedExports(label string, reviewed map[string]cfn.Template, deployed []Stack) []RemovedExport {
	templates := map[string]cfn.Template{}
	for _, a := range deployed {
		templates[a.ID] = a.Template
	}
	still := cfn.Exports(templates)
	byExport := map[string]*RemovedExport{}
	for _, imp := range cfn.Imports(reviewed) {
		if imp.Consumer == "" || imp.Consumer == imp.Producer {
			continue
		}
		if _, ok := still[imp.Export]; ok {
			continue
		}
		r, ok := byExport[imp.Export]
		if !ok {
			r = &RemovedExport{Env: label, Producer: imp.Producer, Export: imp.Export}
			byExport[imp.Export] = r
		}
		if !slices.Contains(r.Consumers, imp.Consumer) {
			r.Consumers = append(r.Consumers, imp.Consumer)
			slices.Sort(r.Consumers)
		}
	}
	var out []RemovedExport
	for _, name := range sortedKeys(byExport) {
		out = append(out, *byExport[name])
	}
	return out
}

// ReadConfig reads the guard's configuration as src has it: the guarded
// types and the allow-list (nil where src does not have the file).
func ReadConfig(src Source, guardedPath, allowPath string) (map[string]string, []Entry, error) {
	var guarded map[string]string
	var allow []Entry
	g, err := src.Path(guardedPath)
	if err == nil && g != "" {
		guarded, err = ReadGuardedTypes(g)
	}
	if err != nil {
		return nil, nil, err
	}
	a, err := src.Path(allowPath)
	if err == nil && a != "" {
		allow, err = ReadAllowList(a)
	}
	return guarded, allow, err
}

// ReadAllowList reads the allow-list and checks every entry.
func ReadAllowList(path string) ([]Entry, error) {
	var list []Entry
	if err := readJSON(path, &list); err != nil {
		return nil, err
	}
	var errs []error
	for i, e := range list {
		for _, p := range e.Problems() {
			errs = append(errs, fmt.Errorf("%s entry %d (%s/%s %s): %s", path, i, e.Env, e.Stack, e.LogicalID, p))
		}
	}
	return list, errors.Join(errs...)
}

// ReadGuardedTypes reads the guarded resource types and why each is.
func ReadGuardedTypes(path string) (map[string]string, error) {
	var types map[string]string
	if err := readJSON(path, &types); err != nil {
		return nil, err
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("%s: no guarded type", path)
	}
	return types, nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
