package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Dir is where the committed environment files live, relative to the
// repository root: Dir/NAME.json describes environment NAME on top of its
// preset. What is deployed is what these files and the presets say.
const Dir = "environments"

// contextKeys are the -c KEY=VALUE overrides the app knows, each with the
// config field it sets and how. They are for one-off overrides; what an
// environment runs is committed in its file.
var contextKeys = []struct {
	key, field string
	set        func(*Overrides, string)
}{
	{"env", "the environment (a file in " + Dir + "/)", nil},
	{"account", "Account", func(o *Overrides, v string) { o.Account = v }},
	{"certificateArn", "LoadBalancer.CertificateArn", func(o *Overrides, v string) { o.CertificateArn = v }},
	{"imageTag", "Service.ImageTag", func(o *Overrides, v string) { o.ImageTag = v }},
	{"amiId", "Cluster.AmiID", func(o *Overrides, v string) { o.AmiID = v }},
	{"alarmEmails", "Monitoring.AlarmEmails", func(o *Overrides, v string) { o.AlarmEmails = strings.Split(v, ",") }},
}

// cdkContext matches the context the CDK itself reads: feature flags
// (@aws-cdk/...), its own settings (aws:cdk:..., cdk-...), the lookup
// cache of cdk.context.json (availability-zones:account=...:region=...)
// and the issues acknowledged with `cdk acknowledge`.
var cdkContext = regexp.MustCompile(`^(@[a-z0-9-]+/|aws:cdk:|aws-cdk:|cdk-|[a-z0-9-]+:.*=|acknowledged-issue-numbers$)`)

// FromContext returns the validated configuration the app's context
// selects: the environment file Dir/ENV.json (ENV from -c env, default
// dev) on top of its preset, then the -c overrides. It reports every
// problem at once: unknown or mistyped context keys, an unknown
// environment, problems in the file and invalid values.
func FromContext(ctx map[string]any, dir string) (Config, error) {
	var errs []error
	env := DefaultEnvironment
	var o Overrides
	known := make([]string, len(contextKeys))
	for i, k := range contextKeys {
		known[i] = k.key
	}
	for _, key := range sortedKeys(ctx) {
		if cdkContext.MatchString(key) {
			continue
		}
		i := slices.Index(known, key)
		if i < 0 {
			errs = append(errs, fmt.Errorf("-c %s: unknown context key%s; the app knows %s", key, didYouMean(key, known), strings.Join(known, ", ")))
			continue
		}
		s, ok := ctx[key].(string)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("-c %s (%s): got %v (%T), want a string", key, contextKeys[i].field, ctx[key], ctx[key]))
		case key == "env":
			env = s
		case s == "":
			errs = append(errs, fmt.Errorf("-c %s: got an empty value; leave the key out to keep what the environment's file says", key))
		default:
			contextKeys[i].set(&o, s)
		}
	}
	if env == "" {
		errs = append(errs, fmt.Errorf("-c env: got an empty name, want one of %s", strings.Join(Names(), ", ")))
		return Config{}, errors.Join(errs...)
	}
	cfg, err := Load(dir, env, o)
	return cfg, errors.Join(append(errs, err)...)
}

// loadEnvironment is the preset of env with the committed file on top.
func loadEnvironment(dir, env string) (Config, error) {
	cfg, ok := Presets()[env]
	if !ok {
		return Config{}, &FieldError{Field: "-c env", Value: env, Allowed: "one of " + strings.Join(Names(), ", ")}
	}
	path := filepath.Join(dir, env+".json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("environment %s: %w (every environment is committed in %s/)", env, err, dir)
	}
	if err := decodeStrict(path, raw, &cfg); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// decodeStrict sets the fields the file names on cfg. Unlike
// encoding/json it refuses what it would otherwise skip or guess: a field
// the Config type does not have (names are matched exactly), a value of
// the wrong type, and null, which would keep the preset's value while the
// file looks like it sets one. Every problem is reported, with the file.
func decodeStrict(path string, raw []byte, cfg *Config) error {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("%s: not valid JSON: %w", path, err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: got %s, want a JSON object of Config fields", path, jsonKind(doc))
	}
	errs := duplicateKeys(path, raw)
	checkFields(path, "", obj, reflect.TypeOf(Config{}), &errs)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := json.Unmarshal(raw, cfg); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
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
	for {
		tok, err := dec.Token()
		if err != nil {
			return errs // the syntax is decodeStrict's to report
		}
		top := func() *frame {
			if len(stack) == 0 {
				return nil
			}
			return stack[len(stack)-1]
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

// checkFields compares one JSON object with the struct type it sets.
func checkFields(path, prefix string, obj map[string]any, typ reflect.Type, errs *[]error) {
	var names []string
	for i := range typ.NumField() {
		names = append(names, typ.Field(i).Name)
	}
	for _, key := range sortedKeys(obj) {
		field, ok := typ.FieldByName(key)
		name := prefix + key
		switch {
		case !ok || !field.IsExported():
			*errs = append(*errs, fmt.Errorf("%s: unknown field %s%s", path, name, didYouMean(key, names)))
		case key == "Environment":
			*errs = append(*errs, fmt.Errorf("%s: Environment is the file's name and cannot be set in it", path))
		default:
			checkValue(path, name, obj[key], field.Type, errs)
		}
	}
}

func checkValue(path, name string, v any, typ reflect.Type, errs *[]error) {
	want := map[reflect.Kind]string{
		reflect.String: "a string", reflect.Bool: "true or false", reflect.Int: "a whole number",
		reflect.Float64: "a number", reflect.Slice: "a list of strings", reflect.Struct: "an object",
	}[typ.Kind()]
	bad := func() { *errs = append(*errs, fmt.Errorf("%s: %s: got %s, want %s", path, name, jsonKind(v), want)) }
	switch v := v.(type) {
	case nil:
		*errs = append(*errs, fmt.Errorf("%s: %s: got null, want %s (leave the field out to keep the preset's value)", path, name, want))
	case string:
		if typ.Kind() != reflect.String {
			bad()
		}
	case bool:
		if typ.Kind() != reflect.Bool {
			bad()
		}
	case json.Number:
		_, isInt := v.Int64()
		if typ.Kind() != reflect.Float64 && (typ.Kind() != reflect.Int || isInt != nil) {
			bad()
		}
	case []any:
		if typ.Kind() != reflect.Slice {
			bad()
			return
		}
		for i, e := range v {
			checkValue(path, fmt.Sprintf("%s[%d]", name, i), e, typ.Elem(), errs)
		}
	case map[string]any:
		if typ.Kind() != reflect.Struct {
			bad()
			return
		}
		checkFields(path, name+".", v, typ, errs)
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
