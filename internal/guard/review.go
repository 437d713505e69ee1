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
	// AWS to why (tools/guarded-types.json).
	Guarded map[string]string
	// Allow lists the intended destructive changes
	// (testdata/allowed-replacements.json).
	Allow []Entry
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
// has), the destructive changes among it, and the verdict on them.
type Review struct {
	Diffs    []Diff
	Findings []Finding
	// Gone says, per pair name, why the reviewed stack goes (removed,
	// renamed or moved).
	Gone    map[string]string
	Verdict Verdict
}

// Review pairs the reviewed and deployed stacks of every comparison by
// identity, runs the diff engine over all pairs in one Node process and
// judges every destructive change: the one implementation behind the gate
// in `make test` and the summary of `make diff`.
func (e Engine) Review(cs []Comparison, o Options) (Review, error) {
	var pairs []Pair
	// Pairs of equal templates need no diff engine: most stacks of most
	// comparisons do not change.
	var same []string
	gone := map[string]string{} // pair name -> why its stack goes
	shared := map[string][]string{}
	var removed []RemovedExport
	for _, c := range cs {
		reviewed := map[string]cfn.Template{}
		paired := map[string]bool{}
		for _, b := range c.Reviewed {
			name := c.Label + "/" + b.ID
			i := slices.IndexFunc(c.Deployed, func(a Stack) bool { return SameStack(b.Identity, a.Identity, o.PlaceholderAccounts) })
			switch {
			case i >= 0 && b.Template != nil && reflect.DeepEqual(b.Template, c.Deployed[i].Template):
				same = append(same, name)
				paired[c.Deployed[i].ID] = true
			case i >= 0:
				pairs = append(pairs, Pair{name, b.File, c.Deployed[i].File})
				paired[c.Deployed[i].ID] = true
			default:
				why := fmt.Sprintf("stack %s is removed", b.Identity)
				if j := slices.IndexFunc(c.Deployed, func(a Stack) bool { return a.ID == b.ID }); j >= 0 {
					why = fmt.Sprintf("stack %s is renamed or moved to %s: CloudFormation creates a new, empty stack", b.Identity, c.Deployed[j].Identity)
				}
				gone[name] = why
				pairs = append(pairs, Pair{name, b.File, ""})
			}
			if b.Template != nil {
				reviewed[b.ID] = b.Template
			}
		}
		for _, a := range c.Deployed {
			if !paired[a.ID] {
				pairs = append(pairs, Pair{c.Label + "/" + a.ID + " (new)", "", a.File})
			}
		}
		for key, consumers := range SharedResources(reviewed) {
			shared[c.Label+"/"+key] = consumers
		}
		removed = append(removed, RemovedExports(c.Label, reviewed, c.Deployed)...)
	}
	diffs, err := e.Run(pairs, o.Text)
	if err != nil {
		return Review{}, err
	}
	for _, name := range same {
		diffs = append(diffs, Diff{Name: name, Empty: true})
	}
	slices.SortStableFunc(diffs, func(a, b Diff) int { return strings.Compare(a.Name, b.Name) })
	var findings []Finding
	for _, d := range diffs {
		label, stack, _ := strings.Cut(d.Name, "/")
		for _, c := range d.Changes {
			findings = append(findings, Finding{Env: label, Stack: stack, LogicalID: c.LogicalID, Type: c.Type, Impact: c.Impact,
				Properties: c.Properties, StackGone: gone[d.Name]})
		}
	}
	return Review{Diffs: diffs, Findings: findings, Gone: gone, Verdict: Judge(Input{Findings: findings, Guarded: o.Guarded, Shared: shared,
		Allow: o.Allow, CheckStale: o.CheckStale, RemovedExports: removed})}, nil
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
