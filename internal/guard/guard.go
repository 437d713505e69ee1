// Package guard is the replacement guard: it compares what a change would
// deploy with what was reviewed (the goldens of the working tree or of a
// base revision), pairs stacks by identity, runs the CDK's own diff engine
// (tools/cfndiff.js) over every pair and judges each change that loses
// data, identity or protection: a resource that holds data or identity
// outside AWS, or that other stacks import, must not be replaced,
// destroyed or orphaned; a stack must not leave the app or move; an export
// other stacks import must not disappear; and prod's protections must not
// weaken, unless an allow-list entry names exactly that change with a
// reason. The gate in `make test` and `make diff` both run it.
package guard

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Change is what a deploy would do to a resource or stack.
type Change string

// The changes the guard judges.
const (
	Replace Change = "replace"
	Destroy Change = "destroy"
	Orphan  Change = "orphan"
	// Weaken turns off or removes a protection.
	Weaken Change = "weaken"
	// Move takes a stack out of the app: renamed, moved to another
	// account or region, or removed.
	Move Change = "move"
)

var changes = []Change{Replace, Destroy, Orphan, Weaken, Move, Reroute, Migrate}

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
	// RenamedTo is the logical ID of a resource of the same type the
	// change adds in the same stack: the construct was most likely
	// renamed, which CloudFormation carries out as a new resource and the
	// old one's removal.
	RenamedTo string
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

// Weakening is one protection a change turns off or removes.
type Weakening struct {
	Env, Stack string
	// LogicalID names the resource, or "(stack)" for the stack itself,
	// or the security group a rule opens.
	LogicalID string
	Type      string
	// What is the protection ("DeletionProtection", "WebACL", "egress
	// tcp/443 to 0.0.0.0/0"); an allow-list entry names it in properties.
	What string
	// Detail says what changes ("true -> false"); Why what it costs.
	Detail, Why string
}

func (w Weakening) String() string {
	return fmt.Sprintf("%s/%s: weaken %s %s: %s %s: %s", w.Env, w.Stack, w.Type, w.LogicalID, w.What, w.Detail, w.Why)
}

// StackGone is a reviewed stack the change takes out of the app.
type StackGone struct {
	Env, Stack string
	From       Identity
	// To is the identity of the stack with the same ID the change deploys
	// instead (renamed or moved), or nil where the stack is removed.
	To *Identity
	// Holds lists the guarded types among its resources, with how many.
	Holds map[string]int
	// Resources counts every resource of the reviewed stack.
	Resources int
}

// Entry is one allow-list entry: exactly one change of one resource or
// stack, with the properties (or, for a weakening, the protections) that
// may cause it and the reason it is intended.
type Entry struct {
	Env        string   `json:"env"`
	Stack      string   `json:"stack"`
	LogicalID  string   `json:"logicalId"`
	Change     Change   `json:"change"`
	Properties []string `json:"properties"`
	Reason     string   `json:"reason"`
}

func (e Entry) String() string {
	return fmt.Sprintf("%s/%s: %s %s (%s)", e.Env, e.Stack, e.Change, e.LogicalID, strings.Join(e.Properties, ", "))
}

// Problems lists what is wrong with an entry itself.
func (e Entry) Problems() []string {
	var out []string
	if e.Env == "" || e.Stack == "" || e.LogicalID == "" {
		out = append(out, "needs env, stack and logicalId")
	}
	if !slices.Contains(changes, e.Change) {
		out = append(out, fmt.Sprintf("change %q is not one of replace, destroy, orphan, weaken, move, reroute, migrate", e.Change))
	}
	if e.Change == Replace && len(e.Properties) == 0 {
		out = append(out, "a replacement names the properties that cause it")
	}
	if e.Change == Weaken && len(e.Properties) == 0 {
		out = append(out, "a weakening names the protections it gives up")
	}
	if e.Change == Reroute && len(e.Properties) == 0 {
		out = append(out, "a rerouting names what changes")
	}
	if e.Change == Migrate && len(e.Properties) == 0 {
		out = append(out, "a migration names the new strategy")
	}
	if len(strings.TrimSpace(e.Reason)) < 20 {
		out = append(out, "needs a reason of a sentence")
	}
	return out
}

// covers reports whether the entry names the resource and change, with
// every one of props among its properties.
func (e Entry) covers(env, stack, id string, c Change, props ...string) bool {
	if e.Env != env || e.Stack != stack || e.LogicalID != id || e.Change != c {
		return false
	}
	for _, p := range props {
		if !slices.Contains(e.Properties, p) {
			return false
		}
	}
	return true
}

// Input is everything one judgement needs.
type Input struct {
	Findings   []Finding
	Weakenings []Weakening
	Reroutes   []Rerouting
	Migrations []Migration
	Gone       []StackGone
	// Reviewed counts the reviewed stacks per environment, to tell a move
	// of the whole environment from one stack's.
	Reviewed map[string]int
	// Guarded maps each resource type that holds data or identity to why.
	Guarded map[string]string
	// Shared maps "ENV/STACK/LOGICALID" of every resource whose attributes
	// another stack imports to the importing stacks.
	Shared map[string][]string
	Allow  []Entry
	// BaseAllow is the allow-list as the base revision has it: an entry
	// that was already there and matches nothing is done (its change has
	// shipped), not stale.
	BaseAllow []Entry
	// CheckStale reports entries that match no change: in a comparison
	// with a base revision, an entry nothing needs.
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
	// Violations are the changes that must not pass, each with what will
	// happen in AWS and what to do.
	Violations []string
	// Allowed are the changes that pass, each with why.
	Allowed []string
	// Stale are allow-list entries that matched nothing and are new.
	Stale []string
	// Done are allow-list entries the base already had that matched
	// nothing: their change has shipped, so they can go.
	Done []string
}

const allowHint = "if intended, allow exactly this change in the allow-list"

// inPlace are properties the diff engine marks as possibly replacing their
// resource (its resource schema lists them as conditionally create-only)
// that CloudFormation updates in place.
var inPlace = map[string][]string{
	// "Update requires: Some interruptions" (CloudFormation Template
	// Reference, AWS::RDS::DBInstance, DBParameterGroupName); the RDS
	// resource handler sends it in ModifyDBInstance and never treats it as
	// immutable (aws-cloudformation-resource-providers-rds, UpdateHandler
	// and Translator, read 2026-12-02).
	"AWS::RDS::DBInstance": {"DBParameterGroupName"},
}

// safeReplacements are replacements of a guarded type that lose nothing:
// all it holds is in the template, and CloudFormation creates the new
// resource before it points dependents at it and removes the old one.
var safeReplacements = map[string]struct {
	props []string
	why   string
}{
	"AWS::RDS::DBParameterGroup": {[]string{"Family"}, "a major version upgrade: CloudFormation creates the parameter group of the new family, " +
		"the instance switches to it in the same ModifyDBInstance as its new EngineVersion (which RDS requires for a custom group), " +
		"then the old group goes; its parameters are all in the template"},
	"AWS::ElastiCache::ParameterGroup": {[]string{"CacheParameterGroupFamily"}, "a major version upgrade: CloudFormation creates the parameter group of the new family " +
		"before the replication group switches to it; its parameters are all in the template"},
}

// harmless says why a destructive-looking finding loses nothing, or "".
func harmless(f Finding) string {
	if f.Impact == "MAY_REPLACE" && len(f.Properties) > 0 && !slices.ContainsFunc(f.Properties, func(p string) bool { return !slices.Contains(inPlace[f.Type], p) }) {
		return "updates in place: CloudFormation documents " + strings.Join(f.Properties, ", ") + " as an update with some interruption, not a replacement"
	}
	if safe, ok := safeReplacements[f.Type]; ok && f.Change() == Replace && len(f.Properties) > 0 &&
		!slices.ContainsFunc(f.Properties, func(p string) bool { return !slices.Contains(safe.props, p) }) {
		return safe.why
	}
	return ""
}

// Judge decides every change.
func Judge(in Input) Verdict {
	var v Verdict
	used := make([]bool, len(in.Allow))
	allowed := func(env, stack, id string, c Change, props ...string) (string, bool) {
		i := slices.IndexFunc(in.Allow, func(e Entry) bool { return e.covers(env, stack, id, c, props...) })
		if i < 0 {
			return "", false
		}
		used[i] = true
		return in.Allow[i].Reason, true
	}
	judgeGone(in, &v, allowed)
	for _, f := range in.Findings {
		consumers := in.Shared[f.Env+"/"+f.Stack+"/"+f.LogicalID]
		reason, guarded := in.Guarded[f.Type]
		if why, ok := allowed(f.Env, f.Stack, f.LogicalID, f.Change(), f.Properties...); ok {
			v.Allowed = append(v.Allowed, fmt.Sprintf("%s: allowed by the allow-list: %s", f, why))
			continue
		}
		if why := harmless(f); why != "" {
			v.Allowed = append(v.Allowed, fmt.Sprintf("%s: %s", f, why))
			continue
		}
		if !guarded && len(consumers) == 0 {
			v.Allowed = append(v.Allowed, fmt.Sprintf("%s: a resource that holds no data or outside identity and that no other stack imports", f))
			continue
		}
		var why []string
		if guarded {
			why = append(why, reason)
		}
		if len(consumers) > 0 {
			why = append(why, fmt.Sprintf("%s imports it, so CloudFormation will refuse the deploy (\"Export ... cannot be updated as it is in use\")", strings.Join(consumers, ", ")))
		}
		advice := allowHint
		switch {
		case f.RenamedTo != "":
			advice = fmt.Sprintf("the construct was renamed (the change adds %s of the same type): restore its construct ID, or pin the logical ID with OverrideLogicalId", f.RenamedTo)
		case len(consumers) > 0:
			advice = "remove the import in two steps (docs/change-safety.md, Cross-stack references) or create the new resource beside the old one under a new construct ID; " + allowHint
		}
		v.Violations = append(v.Violations, fmt.Sprintf("%s: %s; %s", f, strings.Join(why, "; and "), advice))
	}
	for _, w := range in.Weakenings {
		if why, ok := allowed(w.Env, w.Stack, w.LogicalID, Weaken, w.What); ok {
			v.Allowed = append(v.Allowed, fmt.Sprintf("%s: allowed by the allow-list: %s", w, why))
			continue
		}
		v.Violations = append(v.Violations, fmt.Sprintf("%s; %s", w, allowHint))
	}
	for _, r := range in.Reroutes {
		if why, ok := allowed(r.Env, r.Stack, r.LogicalID, Reroute, r.What...); ok {
			v.Allowed = append(v.Allowed, fmt.Sprintf("%s/%s: reroute %s %s (changed: %s): allowed by the allow-list: %s", r.Env, r.Stack, r.Type, r.LogicalID, joinComma(r.What), why))
			continue
		}
		v.Violations = append(v.Violations, r.String())
	}
	for _, m := range in.Migrations {
		if why, ok := allowed(m.Env, m.Stack, m.LogicalID, Migrate, m.To); ok {
			v.Allowed = append(v.Allowed, fmt.Sprintf("%s/%s: migrate AWS::ECS::Service %s to %s: allowed by the allow-list: %s", m.Env, m.Stack, m.LogicalID, m.To, why))
			continue
		}
		v.Violations = append(v.Violations, m.String())
	}
	for _, r := range in.RemovedExports {
		v.Violations = append(v.Violations, fmt.Sprintf("%s/%s: export %s is removed while %s import it in the deployed stacks, "+
			"so CloudFormation will refuse the deploy (\"Export ... cannot be deleted as it is in use\"); keep it with ExportValue "+
			"for one deploy and remove it in the next (docs/change-safety.md, Cross-stack references)", r.Env, r.Producer, r.Export, strings.Join(r.Consumers, ", ")))
	}
	for i, e := range in.Allow {
		switch {
		case used[i]:
		case slices.ContainsFunc(in.BaseAllow, func(b Entry) bool { return entryEqual(b, e) }):
			v.Done = append(v.Done, fmt.Sprintf("%s: the change it allows has shipped; remove the entry", e))
		case in.CheckStale:
			v.Stale = append(v.Stale, fmt.Sprintf("%s matches no change; remove the entry", e))
		}
	}
	sort.Strings(v.Violations)
	sort.Strings(v.Allowed)
	return v
}

// judgeGone judges stacks that leave the app: the whole environment's
// stacks moving is one headline; a single stack is one violation each.
func judgeGone(in Input, v *Verdict, allowed func(env, stack, id string, c Change, props ...string) (string, bool)) {
	byEnv := map[string][]StackGone{}
	var envs []string
	for _, g := range in.Gone {
		if _, ok := byEnv[g.Env]; !ok {
			envs = append(envs, g.Env)
		}
		byEnv[g.Env] = append(byEnv[g.Env], g)
	}
	for _, env := range envs {
		gone := byEnv[env]
		moved := !slices.ContainsFunc(gone, func(g StackGone) bool { return g.To == nil })
		if moved && len(gone) == in.Reviewed[env] && len(gone) > 1 {
			if why, ok := allowed(env, "(environment)", "(all stacks)", Move); ok {
				v.Allowed = append(v.Allowed, fmt.Sprintf("%s: moves: allowed by the allow-list: %s", env, why))
				continue
			}
			from, to := gone[0].From, *gone[0].To
			var details []string
			for _, g := range gone {
				details = append(details, fmt.Sprintf("%s %s -> %s%s", g.Stack, g.From.StackName, g.To.StackName, holding(g)))
			}
			v.Violations = append(v.Violations, fmt.Sprintf("%s/(environment): moves from %s/%s to %s/%s: every stack would be created anew, empty; "+
				"cdk deploy never deletes a stack that left the app, so the old stacks and their data stay where they are, and nothing moves them "+
				"(stacks: %s); to move an environment, deploy the new one beside the old, migrate the data, then retire the old stacks by hand; "+
				"if intended, allow it with stack \"(environment)\", logicalId \"(all stacks)\", change \"move\"",
				env, from.Account, from.Region, to.Account, to.Region, strings.Join(details, "; ")))
			continue
		}
		for _, g := range gone {
			if why, ok := allowed(g.Env, g.Stack, "(stack)", Move); ok {
				v.Allowed = append(v.Allowed, fmt.Sprintf("%s/%s: move stack %s: allowed by the allow-list: %s", g.Env, g.Stack, g.From, why))
				continue
			}
			what := "is removed from the app: cdk deploy never deletes it, so it keeps running with its resources and data until someone deletes it by hand"
			if g.To != nil {
				what = fmt.Sprintf("is renamed or moved to %s: cdk deploy creates that stack anew, empty, and never deletes the old one, which keeps its resources and data; "+
					"restore the stack's name, account and region", *g.To)
			}
			v.Violations = append(v.Violations, fmt.Sprintf("%s/%s: stack %s %s (%d resources%s); if intended, allow it with logicalId \"(stack)\", change \"move\"",
				g.Env, g.Stack, g.From, what, g.Resources, holding(g)))
		}
	}
}

// holding lists the guarded types a gone stack holds.
func holding(g StackGone) string {
	if len(g.Holds) == 0 {
		return ""
	}
	var parts []string
	for _, typ := range sortedKeys(g.Holds) {
		parts = append(parts, fmt.Sprintf("%d %s", g.Holds[typ], typ))
	}
	return ", holding " + strings.Join(parts, ", ")
}

func joinComma(s []string) string { return strings.Join(s, ", ") }

func entryEqual(a, b Entry) bool {
	return a.Env == b.Env && a.Stack == b.Stack && a.LogicalID == b.LogicalID && a.Change == b.Change && slices.Equal(a.Properties, b.Properties)
}
