package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statefulTypesFile lists the types that hold data or identity a
// replacement would lose: the replacement guard fails when one of them
// would be replaced or removed, and `make diff` marks them. One list for
// the Go gate and tools/diff.js.
const statefulTypesFile = "tools/stateful-types.json"

// statefulTypes reads statefulTypesFile.
func statefulTypes(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(statefulTypesFile)
	require.NoError(t, err)
	var types []string
	require.NoError(t, json.Unmarshal(raw, &types), statefulTypesFile)
	require.NotEmpty(t, types, statefulTypesFile)
	return types
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
	require.NoError(t, os.WriteFile(input, raw, 0o644))
	out, err := pinned(t, "node", filepath.Join("tools", "replacement-guard.js"), input).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		require.NoError(t, err, "replacement guard:\n%s", stderr)
	}
	var findings []finding
	require.NoError(t, json.Unmarshal(out, &findings), "replacement guard output:\n%s", out)
	return findings
}

func readAllowList(t *testing.T) []allowed {
	t.Helper()
	raw, err := os.ReadFile(allowListFile)
	require.NoError(t, err)
	var list []allowed
	require.NoError(t, json.Unmarshal(raw, &list), allowListFile)
	for i, a := range list {
		assert.False(t, a.Env == "" || a.Stack == "" || a.LogicalID == "" || len(a.Reason) < 20, "%s entry %d: needs env, stack, logicalId and a reason of a sentence: %+v", allowListFile, i, a)
	}
	return list
}

// violations keeps the findings that replace or remove a stateful resource
// and are not allow-listed.
func violations(stateful []string, findings []finding, list []allowed) []finding {
	var out []finding
	for _, f := range findings {
		if !slices.Contains(stateful, f.Type) {
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
	require.NoError(t, os.WriteFile(tmp, out, 0o644))
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
	bad = violations(statefulTypes(t), findings, readAllowList(t))
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
		assert.Fail(t, "would lose a stateful resource", "%s\nif this is intended, add {\"env\", \"stack\", \"logicalId\", \"reason\"} to %s", f, allowListFile)
	}
}

// TestReplacementGuardCatches feeds the guard mutations of the real
// templates that must be caught: a renamed database, a changed subnet
// group, a changed engine, a cache whose encryption changes, a dropped
// key; and checks that an allow-list entry lets exactly one through.
func TestReplacementGuardCatches(t *testing.T) {
	dir := t.TempDir()
	db := pinnedID(t, "Database", "AWS::RDS::DBInstance")
	cache := pinnedID(t, "Cache", "AWS::ElastiCache::ReplicationGroup")
	key := pinnedID(t, "Secrets", "AWS::KMS::Key")
	tests := []struct {
		name, stack, wantID string
		mutate              func(res map[string]any)
	}{
		{"database renamed", "Database", db, func(res map[string]any) {
			res["DatabaseRenamed"] = res[db]
			delete(res, db)
		}},
		{"database identifier changed", "Database", db, func(res map[string]any) {
			props(res, db)["DBInstanceIdentifier"] = "webapp-dev-2"
		}},
		{"database subnet group changed", "Database", db, func(res map[string]any) {
			props(res, db)["DBSubnetGroupName"] = "another-subnet-group"
		}},
		{"database engine changed", "Database", db, func(res map[string]any) {
			props(res, db)["Engine"] = "mysql"
		}},
		{"subnet group renamed", "Database", "SubnetGroup", func(res map[string]any) {
			props(res, "SubnetGroup")["DBSubnetGroupName"] = "renamed"
		}},
		{"cache encryption at rest changed", "Cache", cache, func(res map[string]any) {
			props(res, cache)["AtRestEncryptionEnabled"] = false
		}},
		{"key removed", "Secrets", key, func(res map[string]any) {
			delete(res, key)
		}},
	}
	var pairs []templatePair
	for i, tt := range tests {
		golden := filepath.Join("testdata", "dev", tt.stack+".template.json")
		raw, err := os.ReadFile(golden)
		require.NoError(t, err)
		var tpl map[string]any
		require.NoError(t, json.Unmarshal(raw, &tpl))
		tt.mutate(tpl["Resources"].(map[string]any))
		after := filepath.Join(dir, fmt.Sprintf("%d.json", i))
		raw, _ = json.Marshal(tpl)
		require.NoError(t, os.WriteFile(after, raw, 0o644))
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
		bad := violations(statefulTypes(t), mine, nil)
		if !assert.True(t, slices.ContainsFunc(bad, func(f finding) bool { return f.LogicalID == tt.wantID }),
			"%s: guard reported %v, want a violation on %s", tt.name, bad, tt.wantID) {
			continue
		}
		let := violations(statefulTypes(t), mine, []allowed{{Env: "dev", Stack: tt.stack, LogicalID: tt.wantID, Reason: "intended in this test"}})
		assert.False(t, slices.ContainsFunc(let, func(f finding) bool { return f.LogicalID == tt.wantID }),
			"%s: an allow-list entry for %s did not let it through: %v", tt.name, tt.wantID, let)
	}
}

func props(res map[string]any, id string) map[string]any {
	return res[id].(map[string]any)["Properties"].(map[string]any)
}

// statefulResources pins the logical IDs of everything that holds data: a
// changed ID makes CloudFormation replace the resource, so a rename must
// fail here first.
var statefulResources = []struct{ stack, typ, id string }{
	{"Secrets", "AWS::KMS::Key", "Key961B73FD"},
	{"Secrets", "AWS::SecretsManager::Secret", "DatabaseCredentials8547B3E7"},
	{"Secrets", "AWS::SecretsManager::Secret", "RedisAuthToken241E45D5"},
	{"Database", "AWS::RDS::DBInstance", "DatabaseB269D8BB"},
	{"Database", "AWS::RDS::DBSubnetGroup", "SubnetGroup"},
	{"Database", "AWS::RDS::DBParameterGroup", "ParameterGroup5E32DECB"},
	{"Database", "AWS::Logs::LogGroup", "PostgresqlLogB0808035"},
	{"Database", "AWS::Logs::LogGroup", "UpgradeLogFBFD28F4"},
	{"Cache", "AWS::ElastiCache::ReplicationGroup", "RedisFF642DF2"},
	{"Cache", "AWS::ElastiCache::SubnetGroup", "RedisSubnetGroup2387CBFF"},
	{"Cache", "AWS::ElastiCache::ParameterGroup", "RedisParameterGroup1FE2C1F3"},
	{"Cache", "AWS::Logs::LogGroup", "SlowLogFAB80CD3"},
	{"Cache", "AWS::Logs::LogGroup", "EngineLog07487AD2"},
	{"Network", "AWS::Logs::LogGroup", "FlowLogs16C1943A"},
	{"Registry", "AWS::ECR::Repository", "Repository22E53BBD"},
	{"LoadBalancer", "AWS::S3::Bucket", "AccessLogs8B620ECA"},
	{"Service", "AWS::Logs::LogGroup", "Logs6819BB44"},
}

// pinnedID is the pinned logical ID of the stateful resource of type typ in
// stack.
func pinnedID(t *testing.T, stack, typ string) string {
	t.Helper()
	for _, r := range statefulResources {
		if r.stack == stack && r.typ == typ {
			return r.id
		}
	}
	require.Fail(t, "no pinned logical ID", "%s %s", stack, typ)
	return ""
}

func TestStatefulLogicalIDsArePinned(t *testing.T) {
	for _, env := range config.Names() {
		for _, r := range statefulResources {
			res, _ := envs[env].templates[r.stack]["Resources"].(map[string]any)
			got, _ := res[r.id].(map[string]any)
			assert.Equal(t, r.typ, got["Type"], "%s/%s: no %s with logical ID %s; renaming a stateful resource replaces it (found %v)",
				env, r.stack, r.typ, r.id, logicalIDsOf(res, r.typ))
		}
	}
}

func logicalIDsOf(res map[string]any, typ string) []string {
	var ids []string
	for id, r := range res {
		if r.(map[string]any)["Type"] == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// manifestArtifacts reads the cloud assembly manifest of an environment.
func manifestArtifacts(t *testing.T, env string) map[string]struct {
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
} {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(envs[env].outdir, "manifest.json"))
	require.NoError(t, err)
	var m struct {
		Artifacts map[string]struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
		} `json:"artifacts"`
	}
	require.NoError(t, json.Unmarshal(raw, &m))
	return m.Artifacts
}

// TestProdIsProtected audits every prod template: stateful resources keep a
// snapshot or are retained on delete (except on a rolled-back create) and on
// replacement, the database and
// the ALB have deletion protection, and every stack has termination
// protection.
func TestProdIsProtected(t *testing.T) {
	const env = "prod"
	stateful := statefulTypes(t)
	found := 0
	for stack, tpl := range envs[env].templates {
		res, _ := tpl["Resources"].(map[string]any)
		for id, r := range res {
			r := r.(map[string]any)
			if !slices.Contains(stateful, fmt.Sprint(r["Type"])) {
				continue
			}
			found++
			// Kept when deleted or replaced, but not when the deploy that
			// created it rolls back: a kept resource with a fixed name would
			// make the retry fail with "already exists".
			assert.Contains(t, []any{"RetainExceptOnCreate", "Snapshot"}, r["DeletionPolicy"], "%s/%s: %s %s DeletionPolicy", env, stack, r["Type"], id)
			assert.Contains(t, []any{"Retain", "Snapshot"}, r["UpdateReplacePolicy"], "%s/%s: %s %s UpdateReplacePolicy", env, stack, r["Type"], id)
		}
	}
	assert.GreaterOrEqual(t, found, 15, "audited %d stateful resources, fewer than the platform has", found)
	for id, db := range cfn.Resources(envs[env].templates["Database"], "AWS::RDS::DBInstance") {
		assert.Equal(t, true, db["Properties"].(map[string]any)["DeletionProtection"], "%s: database %s has no deletion protection", env, id)
	}
	for id, lb := range cfn.Resources(envs[env].templates["LoadBalancer"], "AWS::ElasticLoadBalancingV2::LoadBalancer") {
		raw, _ := json.Marshal(lb["Properties"].(map[string]any)["LoadBalancerAttributes"])
		assert.Contains(t, string(raw), `{"Key":"deletion_protection.enabled","Value":"true"}`, "%s: load balancer %s has no deletion protection", env, id)
	}
	for id, a := range manifestArtifacts(t, env) {
		if a.Type == "aws:cloudformation:stack" {
			assert.Equal(t, true, a.Properties["terminationProtection"], "%s: stack %s has no termination protection", env, id)
		}
	}
}

// TestDevTearsDown audits every dev template: nothing is retained, no stack
// is termination-protected, nothing has deletion protection, the repository
// and the bucket are emptied, and the capacity provider cannot block the
// Auto Scaling group's deletion.
func TestDevTearsDown(t *testing.T) {
	const env = "dev"
	for stack, tpl := range envs[env].templates {
		res, _ := tpl["Resources"].(map[string]any)
		for id, r := range res {
			r := r.(map[string]any)
			for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
				assert.NotContains(t, []any{"Retain", "RetainExceptOnCreate"}, r[policy], "%s/%s: %s %s is retained (%s); cdk destroy would leave it behind", env, stack, r["Type"], id, policy)
			}
		}
	}
	for id, a := range manifestArtifacts(t, env) {
		if a.Type == "aws:cloudformation:stack" {
			assert.NotEqual(t, true, a.Properties["terminationProtection"], "%s: stack %s has termination protection", env, id)
		}
	}
	for id, db := range cfn.Resources(envs[env].templates["Database"], "AWS::RDS::DBInstance") {
		assert.NotEqual(t, true, db["Properties"].(map[string]any)["DeletionProtection"], "%s: database %s has deletion protection", env, id)
	}
	for id, repo := range cfn.Resources(envs[env].templates["Registry"], "AWS::ECR::Repository") {
		assert.Equal(t, true, repo["Properties"].(map[string]any)["EmptyOnDelete"], "%s: repository %s is not emptied on delete", env, id)
	}
	lb := envs[env].templates["LoadBalancer"]
	for id := range cfn.Resources(lb, "AWS::S3::Bucket") {
		emptied := false
		for _, cr := range cfn.Resources(lb, "Custom::S3AutoDeleteObjects") {
			ref, _ := cr["Properties"].(map[string]any)["BucketName"].(map[string]any)
			emptied = emptied || ref["Ref"] == id
		}
		assert.True(t, emptied, "%s: bucket %s is not emptied on delete", env, id)
	}
	for id, cp := range cfn.Resources(envs[env].templates["Cluster"], "AWS::ECS::CapacityProvider") {
		raw, _ := json.Marshal(cp)
		assert.Contains(t, string(raw), `"ManagedTerminationProtection":"DISABLED"`, "%s: capacity provider %s has managed termination protection; the group could never be deleted", env, id)
	}
}

// TestCrossStackExports keeps testdata/ENV/exports.txt, the list of every
// export with its producer and consumers, in step with the templates, so a
// pull request that adds or drops a cross-stack reference shows it in one
// readable file. Dropping an export that a deployed stack still imports
// fails the deploy; see the README on removing a reference in two steps.
func TestCrossStackExports(t *testing.T) {
	for _, env := range config.Names() {
		got := cfn.ExportMap(envs[env].templates)
		checkGolden(t, filepath.Join("testdata", env, "exports.txt"), []byte(got), "lists other cross-stack references (review them)", "make update-golden")
		for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
			if strings.Contains(line, "(unused") {
				t.Logf("%s: %s", env, line)
			}
		}
	}
}

// secretProperty matches property names that carry credentials.
var secretProperty = regexp.MustCompile(`(?i)^(.*password|authtoken|secretstring)$`)

// TestNoPlaintextSecretInAnyTemplate walks every template: a property that
// carries a credential must be a Secrets Manager dynamic reference or a
// generator, never a literal.
func TestNoPlaintextSecretInAnyTemplate(t *testing.T) {
	for _, env := range config.Names() {
		found := 0
		for stack, tpl := range envs[env].templates {
			cfn.Walk(tpl["Resources"], "", func(path string, key string, v any) {
				if !secretProperty.MatchString(key) || strings.Contains(path, "GenerateSecretString") {
					return
				}
				found++
				raw, _ := json.Marshal(v)
				assert.Contains(t, string(raw), "{{resolve:secretsmanager:", "%s/%s: %s%s is not a Secrets Manager dynamic reference", env, stack, path, key)
			})
		}
		assert.GreaterOrEqual(t, found, 2, "%s: found %d credential properties, want at least the database password and the Redis AUTH token", env, found)
	}
}

// TestEveryLogGroupHasRetention covers tasks, flow logs, Redis, RDS
// exports and every function: a log group without a retention, a function
// without an explicit log group, or a rotation function without its
// pre-created group fails.
func TestEveryLogGroupHasRetention(t *testing.T) {
	for _, env := range config.Names() {
		total := 0
		for stack, tpl := range envs[env].templates {
			groups := cfn.Resources(tpl, "AWS::Logs::LogGroup")
			names := map[string]bool{}
			for id, g := range groups {
				total++
				props := g["Properties"].(map[string]any)
				_, ok := props["RetentionInDays"]
				assert.True(t, ok, "%s/%s: log group %s has no retention", env, stack, id)
				if n, ok := props["LogGroupName"].(string); ok {
					names[n] = true
				}
			}
			for id, fn := range cfn.Resources(tpl, "AWS::Lambda::Function") {
				lc, _ := fn["Properties"].(map[string]any)["LoggingConfig"].(map[string]any)
				ref, _ := lc["LogGroup"].(map[string]any)
				_, ok := groups[fmt.Sprint(ref["Ref"])]
				assert.True(t, ok, "%s/%s: function %s logs to %v, want a log group of this template", env, stack, id, lc["LogGroup"])
			}
			for id, rs := range cfn.Resources(tpl, "AWS::SecretsManager::RotationSchedule") {
				hosted, _ := rs["Properties"].(map[string]any)["HostedRotationLambda"].(map[string]any)
				name, _ := hosted["RotationLambdaName"].(string)
				assert.True(t, names["/aws/lambda/"+name], "%s/%s: rotation function %q of %s has no log group /aws/lambda/%s with a retention", env, stack, name, id, name)
			}
		}
		assert.GreaterOrEqual(t, total, 8, "%s: found %d log groups, want at least flow logs, RDS exports, Redis, tasks, rotation, redeploy and functions", env, total)
	}
}
