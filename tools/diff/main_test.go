package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/platform/internal/guard"
)

// TestDiffReportsTheGuardsVerdict: on a change the old JavaScript summary
// judged differently from the gate (a security group that another stack
// imports is replaced: not a guarded type, so the summary marked nothing,
// while the gate refused it), make diff now prints the gate's own verdict.
func TestDiffReportsTheGuardsVerdict(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	node := filepath.Join(root, "node_modules", ".bin", "node")
	if _, err := os.Stat(node); err != nil {
		if os.Getenv("CI") == "true" {
			require.NoError(t, err, "run npm ci first (make test does)")
		}
		t.Skip("node_modules is not installed; run npm ci (make test does)")
	}
	t.Setenv("PATH", filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()
	group := func(description string) map[string]any {
		return map[string]any{
			"Resources": map[string]any{"GroupAAAAAAAA": map[string]any{"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{"GroupDescription": description}}},
			"Outputs":   map[string]any{"ExportGroup": map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"GroupAAAAAAAA", "GroupId"}}, "Export": map[string]any{"Name": "net:ExportGroup"}}},
		}
	}
	task := map[string]any{"Resources": map[string]any{"Task": map[string]any{"Type": "AWS::ECS::TaskDefinition",
		"Properties": map[string]any{"SecurityGroups": []any{map[string]any{"Fn::ImportValue": "net:ExportGroup"}}}}}}
	writeJSON := func(path string, v any) {
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, raw, 0o644))
	}
	golden, assembly := filepath.Join(dir, "golden"), filepath.Join(dir, "cdk.out")
	writeJSON(filepath.Join(golden, "Network.template.json"), group("app"))
	writeJSON(filepath.Join(golden, "App.template.json"), task)
	writeJSON(filepath.Join(golden, "stacks.json"), map[string]guard.Identity{
		"Network": {StackName: "web-network", Account: "111111111111", Region: "eu-west-1"},
		"App":     {StackName: "web-app", Account: "111111111111", Region: "eu-west-1"},
	})
	writeJSON(filepath.Join(assembly, "Network.template.json"), group("renamed"))
	writeJSON(filepath.Join(assembly, "App.template.json"), task)
	artifact := func(name string) map[string]any {
		return map[string]any{"type": "aws:cloudformation:stack", "environment": "aws://111111111111/eu-west-1",
			"properties": map[string]any{"stackName": "web-" + strings.ToLower(name), "templateFile": name + ".template.json"}}
	}
	writeJSON(filepath.Join(assembly, "manifest.json"), map[string]any{"artifacts": map[string]any{"Network": artifact("Network"), "App": artifact("App")}})

	t.Chdir(root)
	var out bytes.Buffer
	require.NoError(t, run(&out, "dev", golden, assembly))
	report := out.String()
	assert.Contains(t, report, "Summary (dev): 1 of 2 stacks changed: Network")
	assert.Contains(t, report, "  replace Network/GroupAAAAAAAA AWS::EC2::SecurityGroup (GroupDescription)\n")
	assert.Contains(t, report, "Replacement guard: refuses 1 change(s)")
	assert.Contains(t, report, "  dev/Network: replace AWS::EC2::SecurityGroup GroupAAAAAAAA (changed: GroupDescription): App imports it, so CloudFormation will refuse the deploy")
}
