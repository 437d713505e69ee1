// Package guard is the replacement guard: it compares what a change would
// deploy with what was reviewed (the goldens of the working tree or of a
// base revision), pairs stacks by identity, runs the CDK's own diff engine
// (tools/cfndiff.js) over every pair and judges each destructive change: a
// resource that holds data or identity outside AWS, or that other stacks
// import, must not be replaced, destroyed or orphaned unless an allow-list
// entry names exactly that change, and an export other stacks import must
// not disappear. The gate in `make test` and `make diff` both run it.
package guard

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Change is what a deploy would do to a resource.
type Change string

// The destructive changes.
const (
	Replace Change = "replace"
	Destroy Change = "destroy"
	Orphan  Change = "orphan"
)

// changeOf maps the diff engine's impact to a Change.
func changeOf(impact string) Change {
	switch impact {
	case "WILL_REPLACE", "MAY_REPLACE":
		return Replace
	case "WILL_ORPHAN":
		return Orphan
	}
	return Destroy
}

// Finding is one destructive change of one resource, as the diff engine
// reports it.
type Finding struct {
	Env, Stack string
	LogicalID  string
	Type       string
	Impact     string
	// Properties are the changed properties that cause a replacement.
	Properties []string
	// StackGone names why the whole stack goes, when it does: the stack
	// was renamed, moved or removed, so every resource in it is destroyed
	// or orphaned and the new stack starts empty.
	StackGone string
}

// Change is the finding's kind of change.
func (f Finding) Change() Change { return changeOf(f.Impact) }

func (f Finding) String() string {
	why := ""
	if len(f.Properties) > 0 {
		why = " (changed: " + strings.Join(f.Properties, ", ") + ")"
	}
	return fmt.Sprintf("%s/%s: %s %s %s%s", f.Env, f.Stack, f.Change(), f.Type, f.LogicalID, why)
}

// Entry is one allow-list entry: exactly one change of one resource, with
// the properties that may cause it and the reason it is intended.
type Entry struct {
	Env        string   `json:"env"`
	Stack      string   `json:"stack"`
	LogicalID  string   `json:"logicalId"`
	Change     Change   `json:"change"`
	Properties []string `json:"properties"`
	Reason     string   `json:"reason"`
}

// Problems lists what is wrong with an entry itself.
func (e Entry) Problems() []string {
	var out []string
	if e.Env == "" || e.Stack == "" || e.LogicalID == "" {
		out = append(out, "needs env, stack and logicalId")
	}
	if !slices.Contains([]Change{Replace, Destroy, Orphan}, e.Change) {
		out = append(out, fmt.Sprintf("change %q is not one of replace, destroy, orphan", e.Change))
	}
	if e.Change == Replace && len(e.Properties) == 0 {
		out = append(out, "a replacement names the properties that cause it")
	}
	if len(strings.TrimSpace(e.Reason)) < 20 {
		out = append(out, "needs a reason of a sentence")
	}
	return out
}

// allows reports whether the entry covers the finding: same resource, same
// change, and every property causing it listed in the entry.
func (e Entry) allows(f Finding) bool {
	if e.Env != f.Env || e.Stack != f.Stack || e.LogicalID != f.LogicalID || e.Change != f.Change() {
		return false
	}
	for _, p := range f.Properties {
		if !slices.Contains(e.Properties, p) {
			return false
		}
	}
	return true
}

// Input is everything one judgement needs.
type Input struct {
	Findings []Finding
	// Guarded maps each resource type that holds data or identity to why.
	Guarded map[string]string
	// Shared maps "ENV/STACK/LOGICALID" of every resource whose attributes
	// another stack imports to the importing stacks.
	Shared map[string][]string
	Allow  []Entry
	// CheckStale reports entries that match no finding: in a comparison
	// with a base revision, an entry nothing needs any more.
	CheckStale bool
	// RemovedExports are exports that the reviewed stacks import and the
	// change no longer produces.
	RemovedExports []RemovedExport
}

// RemovedExport is an export that disappears while other stacks import it.
type RemovedExport struct {
	Env, Producer, Export string
	Consumers             []string
}

// Verdict is the judgement: what fails, what passes and why.
type Verdict struct {
	// Violations are the changes that must not pass, each with its reason.
	Violations []string
	// Allowed are the destructive changes that pass, each with why.
	Allowed []string
	// Stale are allow-list entries that matched nothing.
	Stale []string
}

// Judge decides every finding.
func Judge(in Input) Verdict {
	var v Verdict
	used := make([]bool, len(in.Allow))
	for _, f := range in.Findings {
		consumers := in.Shared[f.Env+"/"+f.Stack+"/"+f.LogicalID]
		reason, guarded := in.Guarded[f.Type]
		i := slices.IndexFunc(in.Allow, func(e Entry) bool { return e.allows(f) })
		if i >= 0 {
			used[i] = true
		}
		switch {
		case i >= 0:
			v.Allowed = append(v.Allowed, fmt.Sprintf("%s: allowed by the allow-list: %s", f, in.Allow[i].Reason))
		case guarded || len(consumers) > 0:
			var why []string
			if guarded {
				why = append(why, reason)
			}
			if len(consumers) > 0 {
				why = append(why, fmt.Sprintf("%s imports it, so CloudFormation will refuse the deploy "+
					"(\"Export ... cannot be updated as it is in use\"); remove the import in two steps (README, Cross-stack references) "+
					"or create the new resource beside the old one under a new construct ID", strings.Join(consumers, ", ")))
			}
			v.Violations = append(v.Violations, fmt.Sprintf("%s%s: %s; if intended, allow exactly this change in the allow-list", f, gone(f), strings.Join(why, "; and ")))
		default:
			v.Allowed = append(v.Allowed, fmt.Sprintf("%s%s: a resource that holds no data or outside identity and that no other stack imports", f, gone(f)))
		}
	}
	for _, r := range in.RemovedExports {
		v.Violations = append(v.Violations, fmt.Sprintf("%s/%s: export %s is removed while %s import it in the deployed stacks, "+
			"so CloudFormation will refuse the deploy (\"Export ... cannot be deleted as it is in use\"); keep it with ExportValue "+
			"for one deploy and remove it in the next (README, Cross-stack references)", r.Env, r.Producer, r.Export, strings.Join(r.Consumers, ", ")))
	}
	if in.CheckStale {
		for i, e := range in.Allow {
			if !used[i] {
				v.Stale = append(v.Stale, fmt.Sprintf("%s/%s: %s %s (%s) matches no change; remove the entry", e.Env, e.Stack, e.Change, e.LogicalID, strings.Join(e.Properties, ", ")))
			}
		}
	}
	sort.Strings(v.Violations)
	sort.Strings(v.Allowed)
	return v
}

func gone(f Finding) string {
	if f.StackGone == "" {
		return ""
	}
	return " because " + f.StackGone
}
