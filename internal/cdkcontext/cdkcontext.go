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
