package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
)

// Dir is where the committed environment files live, relative to the
// repository root: Dir/NAME.json describes environment NAME on top of its
// preset. What is deployed is what these files and the presets say.
const Dir = "environments"

// origins maps the path of each field a file or the command line set
// ("Service.ImageTag", "Monitoring.AlarmEmails") to where the value came
// from: the file's path, or "-c KEY". A field that is not listed keeps its
// preset's value.
type origins map[string]string

// of returns where the value of field (which may carry list indexes, as
// in "Monitoring.AlarmEmails[1]") came from, or "" for the preset.
func (o origins) of(field string) string {
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	for f := field; f != ""; {
		if src, ok := o[f]; ok {
			return src
		}
		i := strings.LastIndexByte(f, '.')
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return ""
}

// loadEnvironment is the preset of env with the committed file dir/ENV.json
// on top: every field the file sets with a value of the right type, and
// every problem of the file. A field the file sets wrongly keeps the
// preset's value, so the rest can still be validated. ok is false when
// there is nothing to validate (an unknown environment, no file, or a file
// that is not a JSON object).
// Peek returns environment env as its preset and committed file in repo
// describe it, not validated: for tools that must read the account and
// region before the lookups that validation needs exist. The error lists
// what could not be read.
func Peek(repo Repository, env string) (Config, error) {
	cfg, _, errs, ok := loadEnvironment(repo.Dir, env)
	if !ok {
		return Config{}, errors.Join(errs...)
	}
	return cfg, errors.Join(errs...)
}

func loadEnvironment(dir, env string) (cfg Config, set origins, errs []error, ok bool) {
	cfg, known := Presets()[env]
	if !known {
		return Config{}, nil, []error{&FieldError{Field: "-c env", Value: env, Allowed: "one of " + strings.Join(Names(), ", ")}}, false
	}
	path := filepath.Join(dir, env+".json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, nil, []error{fmt.Errorf("environment %s: %w (every environment is committed in %s/)", env, err, dir)}, false
	}
	set = origins{}
	errs, ok = decodeStrict(path, raw, &cfg, set)
	return cfg, set, errs, ok
}

// decodeStrict sets on cfg the fields the file names and records them in
// set. Unlike encoding/json it refuses what it would otherwise skip or
// guess: a field the Config type does not have (names are matched
// exactly), a value of the wrong type, null (which would keep the preset's
// value while the file looks like it sets one) and a key set twice. Every
// problem is reported, with the file, and syntax errors with the line and
// column.
func decodeStrict(path string, raw []byte, cfg *Config, set origins) ([]error, bool) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return []error{syntaxError(path, raw, err)}, false
	}
	end := int(dec.InputOffset())
	if _, err := dec.Token(); err != io.EOF {
		extra := end + bytes.IndexFunc(raw[end:], func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) })
		return []error{fmt.Errorf("%s:%s: not valid JSON: more after the object ends", path, position(raw, extra))}, false
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return []error{fmt.Errorf("%s: got %s, want a JSON object of Config fields", path, jsonKind(doc))}, false
	}
	d := &decoder{path: path, set: set}
	d.errs = duplicateKeys(path, raw)
	d.object("", obj, reflect.ValueOf(cfg).Elem(), true)
	return d.errs, true
}

// syntaxError says where a file stops being JSON, as FILE:LINE:COLUMN.
func syntaxError(path string, raw []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return fmt.Errorf("%s:%s: not valid JSON: the file ends before the JSON does", path, position(raw, len(raw)))
	}
	at := int(se.Offset) - 1 // the character that broke it
	if at >= 0 && at < len(raw) && (raw[at] == '}' || raw[at] == ']') {
		prev := bytes.LastIndexFunc(raw[:at], func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) })
		if prev >= 0 && raw[prev] == ',' {
			return fmt.Errorf("%s:%s: not valid JSON: a trailing comma before %q (JSON allows none)", path, position(raw, prev), raw[at])
		}
	}
	return fmt.Errorf("%s:%s: not valid JSON: %v", path, position(raw, at), err)
}

// position is the 1-based line:column of byte offset in raw.
func position(raw []byte, offset int) string {
	offset = max(0, min(offset, len(raw)))
	line := 1 + bytes.Count(raw[:offset], []byte("\n"))
	col := offset - bytes.LastIndexByte(raw[:offset], '\n')
	return fmt.Sprintf("%d:%d", line, col)
}

// decoder sets the fields of one file on a Config.
type decoder struct {
	path string
	set  origins
	errs []error
}

// retired are fields an environment file may still name from an earlier
// version, each with what replaced it.
var retired = map[string]string{
	"Network.S3PrefixListId": "the S3 prefix list follows the region: cdk.context.json records it per account and region, like the zones",
}

func (d *decoder) fail(format string, args ...any) bool {
	d.errs = append(d.errs, fmt.Errorf("%s: "+format, append([]any{d.path}, args...)...))
	return false
}

// object sets the fields of the struct v that obj names. At the top of a
// file (commit) every field is set on its own, so one bad field leaves the
// others; inside a list element all fields are set or none.
func (d *decoder) object(prefix string, obj map[string]any, v reflect.Value, commit bool) bool {
	typ := v.Type()
	var names []string
	for i := range typ.NumField() {
		names = append(names, typ.Field(i).Name)
	}
	ok := true
	for _, key := range sortedKeys(obj) {
		field, found := typ.FieldByName(key)
		name := prefix + key
		switch {
		case retired[name] != "":
			ok = d.fail("%s was removed: %s; delete the key", name, retired[name])
		case !found || !field.IsExported():
			ok = d.fail("unknown field %s%s", name, didYouMean(key, names))
		case prefix == "" && key == "Environment":
			ok = d.fail("Environment is the file's name and cannot be set in it")
		case commit && field.Type.Kind() == reflect.Struct:
			sub, isObject := obj[key].(map[string]any)
			if !isObject {
				ok = d.fail("%s: got %s, want an object", name, jsonKind(obj[key]))
				continue
			}
			ok = d.object(name+".", sub, v.FieldByIndex(field.Index), true) && ok
		case commit:
			value := reflect.New(field.Type).Elem()
			if d.value(name, obj[key], value) {
				v.FieldByIndex(field.Index).Set(value)
				d.set[name] = d.path
			} else {
				ok = false
			}
		default:
			ok = d.value(name, obj[key], v.FieldByIndex(field.Index)) && ok
		}
	}
	return ok
}

// value decodes one JSON value into out, or reports why it cannot.
func (d *decoder) value(name string, raw any, out reflect.Value) bool {
	want := map[reflect.Kind]string{
		reflect.String: "a string", reflect.Bool: "true or false", reflect.Int: "a whole number",
		reflect.Float64: "a number", reflect.Struct: "an object", reflect.Slice: "a list",
	}[out.Kind()]
	switch raw := raw.(type) {
	case nil:
		return d.fail("%s: got null, want %s (leave the field out to keep the preset's value)", name, want)
	case string:
		if out.Kind() == reflect.String {
			out.SetString(raw)
			return true
		}
	case bool:
		if out.Kind() == reflect.Bool {
			out.SetBool(raw)
			return true
		}
	case json.Number:
		if i, err := raw.Int64(); err == nil && out.Kind() == reflect.Int {
			out.SetInt(i)
			return true
		}
		if f, err := raw.Float64(); err == nil && out.Kind() == reflect.Float64 {
			out.SetFloat(f)
			return true
		}
	case []any:
		if out.Kind() == reflect.Slice {
			list := reflect.MakeSlice(out.Type(), len(raw), len(raw))
			ok := true
			for i, e := range raw {
				ok = d.value(fmt.Sprintf("%s[%d]", name, i), e, list.Index(i)) && ok
			}
			if ok {
				out.Set(list)
			}
			return ok
		}
	case map[string]any:
		if out.Kind() == reflect.Struct {
			return d.object(name+".", raw, out, false)
		}
	}
	if out.Kind() == reflect.Slice {
		want = "a list of " + map[reflect.Kind]string{reflect.String: "strings", reflect.Struct: "objects"}[out.Type().Elem().Kind()]
	}
	return d.fail("%s: got %s, want %s", name, jsonKind(raw), want)
}

// duplicateKeys reports every key an object of the document names twice:
// encoding/json would apply both, the later silently winning.
func duplicateKeys(path string, raw []byte) []error {
	var errs []error
	dec := json.NewDecoder(bytes.NewReader(raw))
	type frame struct {
		object bool
		keys   map[string]bool
		next   bool // the next string token is a key
		name   string
		last   string // the key whose value is being read
	}
	var stack []*frame
	top := func() *frame {
		if len(stack) == 0 {
			return nil
		}
		return stack[len(stack)-1]
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return errs // the syntax is decodeStrict's to report
		}
		if key, isKey := tok.(string); isKey {
			if f := top(); f != nil && f.object && f.next {
				if f.keys[key] {
					errs = append(errs, fmt.Errorf("%s: %s%s is set twice; only one value can win", path, f.name, key))
				}
				f.keys[key] = true
				f.next = false
				f.last = key
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			name := ""
			if f := top(); f != nil && f.object {
				name = f.name + f.last + "."
			} else if f != nil {
				name = f.name
			}
			stack = append(stack, &frame{object: tok == json.Delim('{'), keys: map[string]bool{}, next: tok == json.Delim('{'), name: name})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if f := top(); f != nil && f.object {
			f.next = true
		}
	}
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", v)
	case bool:
		return fmt.Sprint(v)
	case json.Number:
		return "the number " + v.String()
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// didYouMean suggests the closest of names to what was typed, when one is
// close enough to be a slip.
func didYouMean(typed string, names []string) string {
	best, bestDist := "", len(typed)/2+2
	for _, n := range names {
		if d := distance(strings.ToLower(typed), strings.ToLower(n)); d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// distance is the Levenshtein edit distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
