package cfn

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Ref names one resource of one stack.
type Ref struct{ Stack, ID string }

func (r Ref) String() string { return r.Stack + "/" + r.ID }

// World is the templates of one app, keyed by stack ID, seen as a whole:
// references are followed across stacks through the exports that join
// them.
type World struct {
	Templates map[string]Template
	Exports   map[string]Export
}

// NewWorld indexes the exports of templates.
func NewWorld(templates map[string]Template) World {
	return World{Templates: templates, Exports: Exports(templates)}
}

// Resource returns the resource r names, or nil.
func (w World) Resource(r Ref) map[string]any {
	return Object(Object(w.Templates[r.Stack]["Resources"])[r.ID])
}

// Props returns the Properties of the resource r names, or nil.
func (w World) Props(r Ref) map[string]any { return Props(w.Resource(r)) }

// Type returns the type of the resource r names, or "".
func (w World) Type(r Ref) string {
	t, _ := w.Resource(r)["Type"].(string)
	return t
}

// Each calls fn for every resource of type typ ("" for any) in every
// stack, in the order of stack then logical ID, and returns how many.
func (w World) Each(typ string, fn func(r Ref, props, resource map[string]any)) int {
	return Each(w.Templates, typ, func(stack, id string, r map[string]any) {
		fn(Ref{stack, id}, Props(r), r)
	})
}

// Resolve follows a Ref, a GetAtt or an ImportValue (through the export's
// producing stack) in stack to the resource it names.
func (w World) Resolve(stack string, v any) (Ref, bool) {
	if id := RefID(v); id != "" {
		r := Ref{stack, id}
		return r, w.Resource(r) != nil
	}
	if name, ok := Object(v)["Fn::ImportValue"].(string); ok {
		if exp, ok := w.Exports[name]; ok {
			return w.Resolve(exp.Stack, exp.Value)
		}
	}
	return Ref{}, false
}

// SameTarget reports whether two template values name the same resource,
// or are the same literal.
func (w World) SameTarget(aStack string, a any, bStack string, b any) bool {
	ra, okA := w.Resolve(aStack, a)
	rb, okB := w.Resolve(bStack, b)
	if okA || okB {
		return okA && okB && ra == rb
	}
	return JSON(a) == JSON(b)
}

// Covers returns whether a policy statement's Resource value, read in
// stack, covers target: "*", or a reference to it (one value or a list).
func (w World) Covers(stack string, target Ref) func(v any) bool {
	return func(v any) bool {
		for _, e := range ListOr(v) {
			if e == "*" {
				return true
			}
			if r, ok := w.Resolve(stack, e); ok && r == target {
				return true
			}
		}
		return false
	}
}

// RolePolicies returns the policy documents attached to an IAM role: its
// inline Policies and the AWS::IAM::Policy resources of its stack that
// name it.
func (w World) RolePolicies(role Ref) []any {
	var docs []any
	for _, p := range List(w.Props(role)["Policies"]) {
		docs = append(docs, Object(p)["PolicyDocument"])
	}
	Each(map[string]Template{role.Stack: w.Templates[role.Stack]}, "AWS::IAM::Policy", func(_, _ string, r map[string]any) {
		props := Props(r)
		for _, rr := range List(props["Roles"]) {
			if got, ok := w.Resolve(role.Stack, rr); ok && got == role {
				docs = append(docs, props["PolicyDocument"])
			}
		}
	})
	return docs
}

// Stacks returns the stack IDs, sorted.
func (w World) Stacks() []string { return slices.Sorted(maps.Keys(w.Templates)) }

// Flatten renders a string, or an Fn::Join of strings and pseudo
// parameters, as one string, with AWS::URLSuffix as amazonaws.com; any
// other value as its JSON.
func Flatten(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if join, ok := v["Fn::Join"].([]any); ok && len(join) == 2 {
			var parts []string
			for _, p := range List(join[1]) {
				parts = append(parts, Flatten(p))
			}
			return strings.Join(parts, fmt.Sprint(join[0]))
		}
		if v["Ref"] == "AWS::URLSuffix" {
			return "amazonaws.com"
		}
	}
	return JSON(v)
}

// JSON renders v as compact JSON, for comparisons and messages.
func JSON(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}
