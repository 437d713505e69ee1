package main

import (
	"encoding/json"
	"fmt"
	"os"
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

// identityOnlyTypes are the guarded types that hold no data, only an
// identity outside AWS (a DNS name, a topic ARN with its subscriptions):
// the guard refuses to replace them, but prod need not keep them once
// their stack is deleted.
var identityOnlyTypes = []string{"AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::SNS::Topic"}

// dataTypes hold data that prod keeps when its resource leaves the
// template or its stack is deleted: the guarded types but those.
func dataTypes(t *testing.T) []string {
	t.Helper()
	var out []string
	for typ := range guardedTypes(t) {
		if !slices.Contains(identityOnlyTypes, typ) {
			out = append(out, typ)
		}
	}
	require.Len(t, out, len(guardedTypes(t))-len(identityOnlyTypes), "every identity-only type is guarded")
	return out
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

func TestStatefulLogicalIDsArePinned(t *testing.T) {
	for _, env := range config.Names() {
		for _, r := range statefulResources {
			res, _ := envs[env].templates[r.stack]["Resources"].(map[string]any)
			got, _ := res[r.id].(map[string]any)
			assert.Equal(t, r.typ, got["Type"], "%s/%s: no %s with logical ID %s; renaming a stateful resource replaces it (found %v)",
				env, r.stack, r.typ, r.id, cfn.IDs(envs[env].templates[r.stack], r.typ))
		}
	}
}

// manifestArtifacts reads the cloud assembly manifest of an environment.
func manifestArtifacts(t checkT, env string) map[string]manifestArtifact {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(envs[env].outdir, "manifest.json"))
	require.NoError(t, err)
	var m struct {
		Artifacts map[string]manifestArtifact `json:"artifacts"`
	}
	require.NoError(t, json.Unmarshal(raw, &m))
	return m.Artifacts
}

// manifestArtifact is one artifact of an assembly's manifest.
type manifestArtifact struct {
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
}

// TestProdIsProtected audits every prod template (as committed, and as the
// runbooks leave it; prod's preset promises protection whatever its file
// says): stateful resources keep a
// snapshot or are retained on delete (except on a rolled-back create) and on
// replacement, the database and
// the ALB have deletion protection, and every stack has termination
// protection.
func TestProdIsProtected(t *testing.T) {
	for _, env := range configsOf("prod") {
		t.Run(env, func(t *testing.T) { prodIsProtected(t, env) })
	}
}

func prodIsProtected(t *testing.T, env string) {
	kept := dataTypes(t)
	found := 0
	cfn.Each(envs[env].templates, "", func(stack, id string, r map[string]any) {
		if !slices.Contains(kept, fmt.Sprint(r["Type"])) {
			return
		}
		found++
		// Kept when deleted or replaced, but not when the deploy that
		// created it rolls back: a kept resource with a fixed name would
		// make the retry fail with "already exists".
		assert.Contains(t, []any{"RetainExceptOnCreate", "Snapshot"}, r["DeletionPolicy"], "%s/%s: %s %s DeletionPolicy", env, stack, r["Type"], id)
		assert.Contains(t, []any{"Retain", "Snapshot"}, r["UpdateReplacePolicy"], "%s/%s: %s %s UpdateReplacePolicy", env, stack, r["Type"], id)
	})
	assert.GreaterOrEqual(t, found, 15, "audited %d stateful resources, fewer than the platform has", found)
	// Deletion and termination protection, except on the stacks the deploy
	// creates (make deploy's first pass of a first deploy): a create that
	// fails must roll back and be retried, which both protections refuse.
	for id, db := range cfn.Resources(envs[env].templates["Database"], "AWS::RDS::DBInstance") {
		assert.Equal(t, protectedIn(env, "Database", true), cfn.Props(db)["DeletionProtection"], "%s: database %s deletion protection", env, id)
	}
	for id, lb := range cfn.Resources(envs[env].templates["LoadBalancer"], "AWS::ElasticLoadBalancingV2::LoadBalancer") {
		assert.Contains(t, cfn.JSON(cfn.Props(lb)["LoadBalancerAttributes"]), fmt.Sprintf(`{"Key":"deletion_protection.enabled","Value":"%t"}`, protectedIn(env, "LoadBalancer", true)),
			"%s: load balancer %s deletion protection", env, id)
	}
	for id, a := range manifestArtifacts(t, env) {
		if a.Type == "aws:cloudformation:stack" {
			assert.Equal(t, protectedIn(env, id, true), a.Properties["terminationProtection"] == true, "%s: stack %s termination protection", env, id)
		}
	}
}

// TestDevTearsDown audits every dev template: nothing is retained, no stack
// is termination-protected, nothing has deletion protection, the repository
// and the bucket are emptied, and the capacity provider cannot block the
// Auto Scaling group's deletion.
func TestDevTearsDown(t *testing.T) {
	for _, env := range configsOf("dev") {
		t.Run(env, func(t *testing.T) { devTearsDown(t, env) })
	}
}

func devTearsDown(t *testing.T, env string) {
	cfn.Each(envs[env].templates, "", func(stack, id string, r map[string]any) {
		for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			assert.NotContains(t, []any{"Retain", "RetainExceptOnCreate"}, r[policy], "%s/%s: %s %s is retained (%s); cdk destroy would leave it behind", env, stack, r["Type"], id, policy)
		}
	})
	for id, a := range manifestArtifacts(t, env) {
		if a.Type == "aws:cloudformation:stack" {
			assert.NotEqual(t, true, a.Properties["terminationProtection"], "%s: stack %s has termination protection", env, id)
		}
	}
	for id, db := range cfn.Resources(envs[env].templates["Database"], "AWS::RDS::DBInstance") {
		assert.NotEqual(t, true, cfn.Props(db)["DeletionProtection"], "%s: database %s has deletion protection", env, id)
	}
	for id, repo := range cfn.Resources(envs[env].templates["Registry"], "AWS::ECR::Repository") {
		assert.Equal(t, true, cfn.Props(repo)["EmptyOnDelete"], "%s: repository %s is not emptied on delete", env, id)
	}
	lb := envs[env].templates["LoadBalancer"]
	for id := range cfn.Resources(lb, "AWS::S3::Bucket") {
		emptied := false
		for _, cr := range cfn.Resources(lb, "Custom::S3AutoDeleteObjects") {
			ref := cfn.Object(cfn.Props(cr)["BucketName"])
			emptied = emptied || ref["Ref"] == id
		}
		assert.True(t, emptied, "%s: bucket %s is not emptied on delete", env, id)
	}
	for id, cp := range cfn.Resources(envs[env].templates["Cluster"], "AWS::ECS::CapacityProvider") {
		assert.Contains(t, cfn.JSON(cp), `"ManagedTerminationProtection":"DISABLED"`, "%s: capacity provider %s has managed termination protection; the group could never be deleted", env, id)
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
var secretProperty = regexp.MustCompile(`(?i)^(.*passwords?|authtoken|secretstring)$`)

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
				assert.Contains(t, cfn.JSON(v), "{{resolve:secretsmanager:", "%s/%s: %s%s is not a Secrets Manager dynamic reference", env, stack, path, key)
			})
		}
		assert.GreaterOrEqual(t, found, 3, "%s: found %d credential properties, want at least the database master password and the two Redis users' passwords", env, found)
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
				props := cfn.Props(g)
				_, ok := props["RetentionInDays"]
				assert.True(t, ok, "%s/%s: log group %s has no retention", env, stack, id)
				if n, ok := props["LogGroupName"].(string); ok {
					names[n] = true
				}
			}
			for id, fn := range cfn.Resources(tpl, "AWS::Lambda::Function") {
				lc := cfn.Object(cfn.Props(fn)["LoggingConfig"])
				ref, _ := lc["LogGroup"].(map[string]any)
				_, ok := groups[fmt.Sprint(ref["Ref"])]
				assert.True(t, ok, "%s/%s: function %s logs to %v, want a log group of this template", env, stack, id, lc["LogGroup"])
			}
			for id, rs := range cfn.Resources(tpl, "AWS::SecretsManager::RotationSchedule") {
				hosted := cfn.Object(cfn.Props(rs)["HostedRotationLambda"])
				name, _ := hosted["RotationLambdaName"].(string)
				assert.True(t, names["/aws/lambda/"+name], "%s/%s: rotation function %q of %s has no log group /aws/lambda/%s with a retention", env, stack, name, id, name)
			}
		}
		assert.GreaterOrEqual(t, total, 8, "%s: found %d log groups, want at least flow logs, RDS exports, Redis, tasks, rotation, redeploy and functions", env, total)
	}
}
