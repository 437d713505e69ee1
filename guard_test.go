package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/example/platform/lib/config"
)

// statefulTypes hold data or identity that a replacement would lose: the
// replacement guard fails when one of them would be replaced or removed.
var statefulTypes = []string{
	"AWS::RDS::DBInstance", "AWS::RDS::DBSubnetGroup", "AWS::RDS::DBParameterGroup",
	"AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::SubnetGroup", "AWS::ElastiCache::ParameterGroup",
	"AWS::SecretsManager::Secret", "AWS::KMS::Key", "AWS::ECR::Repository",
	"AWS::Logs::LogGroup", "AWS::S3::Bucket",
}

// allowListFile lists intended replacements of stateful resources, each
// with its reason; an entry covers one resource of one stack in one
// environment.
const allowListFile = "testdata/allowed-replacements.json"

type allowed struct {
	Env       string `json:"env"`
	Stack     string `json:"stack"`
	LogicalID string `json:"logicalId"`
	Reason    string `json:"reason"`
}

// finding is one destructive change reported by tools/replacement-guard.js.
type finding struct {
	Name       string   `json:"name"` // ENV/STACK
	LogicalID  string   `json:"logicalId"`
	Type       string   `json:"type"`
	Impact     string   `json:"impact"`
	Properties []string `json:"properties"`
}

func (f finding) String() string {
	why := ""
	if len(f.Properties) > 0 {
		why = " (changed: " + strings.Join(f.Properties, ", ") + ")"
	}
	return fmt.Sprintf("%s: %s %s %s%s", f.Name, f.Impact, f.Type, f.LogicalID, why)
}

type templatePair struct {
	Name   string `json:"name"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// diffTemplates runs the CDK's diff engine once over all pairs.
func diffTemplates(t *testing.T, pairs []templatePair) []finding {
	t.Helper()
	input := filepath.Join(t.TempDir(), "pairs.json")
	raw, _ := json.Marshal(pairs)
	if err := os.WriteFile(input, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := pinned(t, "node", filepath.Join("tools", "replacement-guard.js"), input).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("replacement guard: %v\n%s", err, stderr)
	}
	var findings []finding
	if err := json.Unmarshal(out, &findings); err != nil {
		t.Fatalf("replacement guard output: %v\n%s", err, out)
	}
	return findings
}

func readAllowList(t *testing.T) []allowed {
	t.Helper()
	raw, err := os.ReadFile(allowListFile)
	if err != nil {
		t.Fatal(err)
	}
	var list []allowed
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatalf("%s: %v", allowListFile, err)
	}
	for i, a := range list {
		if a.Env == "" || a.Stack == "" || a.LogicalID == "" || len(a.Reason) < 20 {
			t.Errorf("%s entry %d: needs env, stack, logicalId and a reason of a sentence: %+v", allowListFile, i, a)
		}
	}
	return list
}

// violations keeps the findings that replace or remove a stateful resource
// and are not allow-listed.
func violations(findings []finding, list []allowed) []finding {
	var out []finding
	for _, f := range findings {
		if !slices.Contains(statefulTypes, f.Type) {
			continue
		}
		if slices.ContainsFunc(list, func(a allowed) bool { return a.Env+"/"+a.Stack == f.Name && a.LogicalID == f.LogicalID }) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// goldenBase returns the golden template a stack is compared with: the file
// in testdata/, or with GUARD_BASE=REV (e.g. origin/main in a pull
// request) the file as committed at REV.
func goldenBase(t *testing.T, env, stack string) string {
	t.Helper()
	path := filepath.Join("testdata", env, stack+".template.json")
	base := os.Getenv("GUARD_BASE")
	if base == "" {
		if _, err := os.Stat(path); err != nil {
			return "" // a new stack: nothing to replace
		}
		return path
	}
	out, err := exec.Command("git", "show", base+":"+filepath.ToSlash(path)).Output()
	if err != nil {
		return "" // the stack did not exist at base
	}
	tmp := filepath.Join(t.TempDir(), env+"-"+stack+".json")
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return tmp
}

// guardedChanges compares every synthesized stack with its golden base.
func guardedChanges(t *testing.T) (bad []finding, other []finding) {
	t.Helper()
	var pairs []templatePair
	for _, env := range config.Names() {
		for _, stack := range envs[env].platform.Stacks() {
			id := *stack.ArtifactId()
			pairs = append(pairs, templatePair{
				Name:   env + "/" + id,
				Before: goldenBase(t, env, id),
				After:  filepath.Join(envs[env].outdir, id+".template.json"),
			})
		}
	}
	findings := diffTemplates(t, pairs)
	bad = violations(findings, readAllowList(t))
	for _, f := range findings {
		if !slices.ContainsFunc(bad, func(b finding) bool { return b.Name == f.Name && b.LogicalID == f.LogicalID }) {
			other = append(other, f)
		}
	}
	return bad, other
}

// TestReplacementGuard fails when the current synthesis would replace or
// remove a stateful resource of any environment compared with the golden
// templates (or, with GUARD_BASE, the goldens of another revision), unless
// testdata/allowed-replacements.json lists it with a reason.
func TestReplacementGuard(t *testing.T) {
	bad, other := guardedChanges(t)
	for _, f := range other {
		t.Logf("destructive change of a stateless resource (allowed): %s", f)
	}
	for _, f := range bad {
		t.Errorf("would lose a stateful resource: %s\nif this is intended, add {\"env\", \"stack\", \"logicalId\", \"reason\"} to %s", f, allowListFile)
	}
}

// TestReplacementGuardCatches feeds the guard mutations of the real
// templates that must be caught: a renamed database, a changed subnet
// group, a changed engine, a cache whose encryption changes, a dropped
// key; and checks that an allow-list entry lets exactly one through.
func TestReplacementGuardCatches(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, stack, wantID string
		mutate              func(res map[string]any)
	}{
		{"database renamed", "Database", "DatabaseB269D8BB", func(res map[string]any) {
			res["DatabaseRenamed"] = res["DatabaseB269D8BB"]
			delete(res, "DatabaseB269D8BB")
		}},
		{"database identifier changed", "Database", "DatabaseB269D8BB", func(res map[string]any) {
			props(res, "DatabaseB269D8BB")["DBInstanceIdentifier"] = "webapp-dev-2"
		}},
		{"database subnet group changed", "Database", "DatabaseB269D8BB", func(res map[string]any) {
			props(res, "DatabaseB269D8BB")["DBSubnetGroupName"] = "another-subnet-group"
		}},
		{"database engine changed", "Database", "DatabaseB269D8BB", func(res map[string]any) {
			props(res, "DatabaseB269D8BB")["Engine"] = "mysql"
		}},
		{"subnet group renamed", "Database", "SubnetGroup", func(res map[string]any) {
			props(res, "SubnetGroup")["DBSubnetGroupName"] = "renamed"
		}},
		{"cache encryption at rest changed", "Cache", "RedisFF642DF2", func(res map[string]any) {
			props(res, "RedisFF642DF2")["AtRestEncryptionEnabled"] = false
		}},
		{"key removed", "Secrets", "Key961B73FD", func(res map[string]any) {
			delete(res, "Key961B73FD")
		}},
	}
	var pairs []templatePair
	for i, tt := range tests {
		golden := filepath.Join("testdata", "dev", tt.stack+".template.json")
		raw, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		var tpl map[string]any
		if err := json.Unmarshal(raw, &tpl); err != nil {
			t.Fatal(err)
		}
		tt.mutate(tpl["Resources"].(map[string]any))
		after := filepath.Join(dir, fmt.Sprintf("%d.json", i))
		raw, _ = json.Marshal(tpl)
		if err := os.WriteFile(after, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, templatePair{Name: tt.name, Before: golden, After: after})
	}
	findings := diffTemplates(t, pairs)
	for _, tt := range tests {
		var mine []finding
		for _, f := range findings {
			if f.Name == tt.name {
				f.Name = "dev/" + tt.stack
				mine = append(mine, f)
			}
		}
		bad := violations(mine, nil)
		if !slices.ContainsFunc(bad, func(f finding) bool { return f.LogicalID == tt.wantID }) {
			t.Errorf("%s: guard reported %v, want a violation on %s", tt.name, bad, tt.wantID)
			continue
		}
		let := violations(mine, []allowed{{Env: "dev", Stack: tt.stack, LogicalID: tt.wantID, Reason: "intended in this test"}})
		if slices.ContainsFunc(let, func(f finding) bool { return f.LogicalID == tt.wantID }) {
			t.Errorf("%s: an allow-list entry for %s did not let it through: %v", tt.name, tt.wantID, let)
		}
	}
}

func props(res map[string]any, id string) map[string]any {
	return res[id].(map[string]any)["Properties"].(map[string]any)
}
