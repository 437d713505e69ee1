// Package iampolicy evaluates an IAM policy document, as a synthesized
// template holds it, against one request, offline: the subset of IAM's
// evaluation logic the platform's deploy-readiness rules need. Whatever it
// does not understand (NotAction, NotResource, NotPrincipal, an unknown
// condition operator, a statement of an unexpected shape) never makes an
// Allow match and always makes a Deny match, so its verdict errs towards
// "denied": a rule built on it can fail wrongly, never pass wrongly.
package iampolicy

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Request is what a caller brings to an evaluation.
type Request struct {
	// Service is the calling service principal, such as
	// cloudwatch.amazonaws.com; "" evaluates an identity policy, whose
	// statements name no principal.
	Service string
	// Action is the API action, such as sns:Publish.
	Action string
	// Resource reports whether a statement's Resource value (a string, a
	// list or an intrinsic function) covers the target; nil covers any.
	Resource func(v any) bool
	// Context holds the condition keys the request carries, such as
	// aws:SourceAccount.
	Context map[string]string
}

// Evaluate applies one policy document to req the way IAM does within one
// policy: an explicit Deny wins, else some Allow must match. why names the
// deciding statement (its Sid, or #index) or says that nothing allows it.
func Evaluate(doc any, req Request) (allowed bool, why string) {
	d, ok := doc.(map[string]any)
	if !ok {
		return false, fmt.Sprintf("the policy is not an object (%T)", doc)
	}
	statements, ok := d["Statement"].([]any)
	if !ok {
		if st, single := d["Statement"].(map[string]any); single {
			statements = []any{st}
		}
	}
	allowedBy := ""
	for i, s := range statements {
		sid := "#" + strconv.Itoa(i)
		st, ok := s.(map[string]any)
		if !ok {
			return false, fmt.Sprintf("statement %s is not an object, so it counts as a Deny", sid)
		}
		if name, ok := st["Sid"].(string); ok {
			sid = name
		}
		deny := st["Effect"] != "Allow"
		if !matches(st, req, deny) {
			continue
		}
		if deny {
			return false, "denied by statement " + sid
		}
		allowedBy = sid
	}
	if allowedBy == "" {
		return false, "no statement allows it"
	}
	return true, "allowed by statement " + allowedBy
}

// matches reports whether a statement applies to req; deny is whether it
// is a Deny (or of an effect that is not Allow), for which whatever is not
// understood matches.
func matches(st map[string]any, req Request, deny bool) bool {
	for _, unknown := range []string{"NotAction", "NotResource", "NotPrincipal"} {
		if st[unknown] != nil {
			return deny
		}
	}
	if req.Service != "" && !principalIs(st["Principal"], req.Service) {
		return false
	}
	if !slices.ContainsFunc(Strings(st["Action"]), func(a string) bool { return Glob(a, req.Action) }) {
		return false
	}
	if req.Resource != nil && !req.Resource(st["Resource"]) {
		return false
	}
	if st["Condition"] == nil {
		return true
	}
	cond, ok := st["Condition"].(map[string]any)
	if !ok {
		return deny
	}
	for op, kv := range cond {
		keys, ok := kv.(map[string]any)
		if !ok {
			return deny
		}
		for key, want := range keys {
			holds, known := conditionHolds(op, req.Context[key], Strings(want))
			if !known {
				return deny
			}
			if !holds {
				return false
			}
		}
	}
	return true
}

// principalIs reports whether a statement's Principal admits service.
func principalIs(p any, service string) bool {
	if p == "*" {
		return true
	}
	m, _ := p.(map[string]any)
	return slices.Contains(Strings(m["Service"]), service) || slices.Contains(Strings(m["AWS"]), "*")
}

// conditionHolds evaluates one condition key; known is false for an
// operator this package does not implement.
func conditionHolds(op, got string, want []string) (holds, known bool) {
	switch op {
	case "StringEquals", "Bool":
		return slices.Contains(want, got), true
	case "StringLike", "ArnLike", "ArnEquals":
		// Both ARN operators take wildcards; string conditions compare
		// with case, unlike action names.
		return slices.ContainsFunc(want, func(w string) bool { return match(w, got, false) }), true
	}
	return false, false
}

// Glob matches s against an IAM pattern with * and ?, without case as IAM
// compares action names.
func Glob(pattern, s string) bool { return match(pattern, s, true) }

func match(pattern, s string, fold bool) bool {
	expr := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	if fold {
		expr = "(?i)" + expr
	}
	return regexp.MustCompile(expr).MatchString(s)
}

// Strings reads a policy value that is a string or a list of strings;
// anything else is no string at all.
func Strings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// EvaluateAll applies the policies of one principal together, as IAM
// does: a Deny in any of them wins, else an Allow in any allows.
func EvaluateAll(docs []any, req Request) (allowed bool, why string) {
	allowed, why = false, "no policy allows it"
	for _, doc := range docs {
		ok, reason := Evaluate(doc, req)
		if !ok && (strings.HasPrefix(reason, "denied") || strings.HasSuffix(reason, "counts as a Deny")) {
			return false, reason
		}
		if ok {
			allowed, why = true, reason
		}
	}
	return allowed, why
}
