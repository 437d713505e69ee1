package cfn

import (
	"fmt"
	"slices"
	"strings"
)

// Object returns v as a JSON object, or nil when it is not one.
func Object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// List returns v as a JSON list, or nil when it is not one.
func List(v any) []any {
	l, _ := v.([]any)
	return l
}

// ListOr returns v as a list: a list as it is, a single value as a list of
// one, and nothing as an empty list (a property that takes one or many).
func ListOr(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// Props returns a resource's Properties, or nil.
func Props(resource map[string]any) map[string]any { return Object(resource["Properties"]) }

// Get walks from v along path, object keys (strings) and list indexes
// (ints), and returns the value there, or an error naming the part of the
// path it could not read and what it found instead.
func Get(v any, path ...any) (any, error) {
	cur := v
	for i, step := range path {
		switch k := step.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: want an object, found %s", pathString(path[:i]), kind(cur))
			}
			next, ok := m[k]
			if !ok {
				return nil, fmt.Errorf("%s: no key %q (it has %s)", pathString(path[:i]), k, strings.Join(slices.Sorted(keysOf(m)), ", "))
			}
			cur = next
		case int:
			l, ok := cur.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: want a list, found %s", pathString(path[:i]), kind(cur))
			}
			if k < 0 || k >= len(l) {
				return nil, fmt.Errorf("%s: no element %d (it has %d)", pathString(path[:i]), k, len(l))
			}
			cur = l[k]
		default:
			return nil, fmt.Errorf("path element %v is neither a key nor an index", step)
		}
	}
	return cur, nil
}

func keysOf(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// pathString renders a path as Resources.Db.Properties[0].
func pathString(path []any) string {
	if len(path) == 0 {
		return "the template"
	}
	var b strings.Builder
	for i, step := range path {
		if n, ok := step.(int); ok {
			fmt.Fprintf(&b, "[%d]", n)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		fmt.Fprint(&b, step)
	}
	return b.String()
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	}
	return fmt.Sprintf("%T", v)
}

// Check reports every part of tpl that does not have the shape this
// package and the checks built on it read: Resources an object of
// objects, each with a Type string and, where present, Properties and
// Metadata objects; Outputs an object of objects, each Export an object.
// The readers skip what Check reports instead of failing on it, so one
// malformed resource is reported here once while every other check runs.
func Check(tpl Template) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	res, ok := tpl["Resources"].(map[string]any)
	if !ok {
		bad("Resources: want an object, found %s", kind(tpl["Resources"]))
	}
	for _, id := range slices.Sorted(keysOf(res)) {
		r, ok := res[id].(map[string]any)
		if !ok {
			bad("Resources.%s: want an object, found %s", id, kind(res[id]))
			continue
		}
		if _, ok := r["Type"].(string); !ok {
			bad("Resources.%s.Type: want a string, found %s", id, kind(r["Type"]))
		}
		for _, key := range []string{"Properties", "Metadata"} {
			if v, present := r[key]; present {
				if _, ok := v.(map[string]any); !ok {
					bad("Resources.%s.%s: want an object, found %s", id, key, kind(v))
				}
			}
		}
	}
	if outputs, present := tpl["Outputs"]; present {
		out, ok := outputs.(map[string]any)
		if !ok {
			bad("Outputs: want an object, found %s", kind(outputs))
		}
		for _, name := range slices.Sorted(keysOf(out)) {
			o, ok := out[name].(map[string]any)
			if !ok {
				bad("Outputs.%s: want an object, found %s", name, kind(out[name]))
				continue
			}
			if exp, present := o["Export"]; present {
				if _, ok := exp.(map[string]any); !ok {
					bad("Outputs.%s.Export: want an object, found %s", name, kind(exp))
				}
			}
		}
	}
	return errs
}
