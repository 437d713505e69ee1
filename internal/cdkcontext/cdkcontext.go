// Package cdkcontext reads the context the CDK CLI hands the app: the
// feature flags of cdk.json and the cached lookups of cdk.context.json.
package cdkcontext

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Read returns the merged context of cdk.json and cdk.context.json in dir.
func Read(dir string) (map[string]any, error) {
	ctx := map[string]any{}
	for _, file := range []string{"cdk.json", "cdk.context.json"} {
		raw, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if file == "cdk.json" {
			doc, _ = doc["context"].(map[string]any)
		}
		for k, v := range doc {
			ctx[k] = v
		}
	}
	return ctx, nil
}

// Plain returns a context value read back from the App through jsii as
// the JSON it was: jsii hands objects inside an untyped value to Go
// wrapped as {"$jsii.map": {...}}.
func Plain(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if inner, ok := v["$jsii.map"].(map[string]any); ok && len(v) == 1 {
			return Plain(inner)
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = Plain(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = Plain(e)
		}
		return out
	}
	return v
}
