package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/example/platform/lib/config"
)

// manifestArtifacts reads the cloud assembly manifest of an environment.
func manifestArtifacts(t *testing.T, env string) map[string]struct {
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
} {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(envs[env].outdir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Artifacts map[string]struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m.Artifacts
}

// TestProdIsProtected audits every prod template: stateful resources keep a
// snapshot or are retained on delete (except on a rolled-back create) and on
// replacement, the database and
// the ALB have deletion protection, and every stack has termination
// protection.
func TestProdIsProtected(t *testing.T) {
	const env = "prod"
	found := 0
	for stack, tpl := range envs[env].templates {
		res, _ := tpl["Resources"].(map[string]any)
		for id, r := range res {
			r := r.(map[string]any)
			if !slices.Contains(statefulTypes, fmt.Sprint(r["Type"])) {
				continue
			}
			found++
			// Kept when deleted or replaced, but not when the deploy that
			// created it rolls back: a kept resource with a fixed name would
			// make the retry fail with "already exists".
			if p := r["DeletionPolicy"]; p != "RetainExceptOnCreate" && p != "Snapshot" {
				t.Errorf("%s/%s: %s %s has DeletionPolicy %v, want RetainExceptOnCreate or Snapshot", env, stack, r["Type"], id, p)
			}
			if p := r["UpdateReplacePolicy"]; p != "Retain" && p != "Snapshot" {
				t.Errorf("%s/%s: %s %s has UpdateReplacePolicy %v, want Retain or Snapshot", env, stack, r["Type"], id, p)
			}
		}
	}
	if found < 15 {
		t.Errorf("audited %d stateful resources, fewer than the platform has", found)
	}
	for id, db := range resources(envs[env].templates["Database"], "AWS::RDS::DBInstance") {
		if db["Properties"].(map[string]any)["DeletionProtection"] != true {
			t.Errorf("%s: database %s has no deletion protection", env, id)
		}
	}
	for id, lb := range resources(envs[env].templates["LoadBalancer"], "AWS::ElasticLoadBalancingV2::LoadBalancer") {
		raw, _ := json.Marshal(lb["Properties"].(map[string]any)["LoadBalancerAttributes"])
		if !strings.Contains(string(raw), `{"Key":"deletion_protection.enabled","Value":"true"}`) {
			t.Errorf("%s: load balancer %s has no deletion protection", env, id)
		}
	}
	for id, a := range manifestArtifacts(t, env) {
		if a.Type == "aws:cloudformation:stack" && a.Properties["terminationProtection"] != true {
			t.Errorf("%s: stack %s has no termination protection", env, id)
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
				if r[policy] == "Retain" || r[policy] == "RetainExceptOnCreate" {
					t.Errorf("%s/%s: %s %s is retained (%s); cdk destroy would leave it behind", env, stack, r["Type"], id, policy)
				}
			}
		}
	}
	for id, a := range manifestArtifacts(t, env) {
		if a.Type == "aws:cloudformation:stack" && a.Properties["terminationProtection"] == true {
			t.Errorf("%s: stack %s has termination protection", env, id)
		}
	}
	for id, db := range resources(envs[env].templates["Database"], "AWS::RDS::DBInstance") {
		if db["Properties"].(map[string]any)["DeletionProtection"] == true {
			t.Errorf("%s: database %s has deletion protection", env, id)
		}
	}
	for id, repo := range resources(envs[env].templates["Registry"], "AWS::ECR::Repository") {
		if repo["Properties"].(map[string]any)["EmptyOnDelete"] != true {
			t.Errorf("%s: repository %s is not emptied on delete", env, id)
		}
	}
	lb := envs[env].templates["LoadBalancer"]
	for id := range resources(lb, "AWS::S3::Bucket") {
		emptied := false
		for _, cr := range resources(lb, "Custom::S3AutoDeleteObjects") {
			ref, _ := cr["Properties"].(map[string]any)["BucketName"].(map[string]any)
			emptied = emptied || ref["Ref"] == id
		}
		if !emptied {
			t.Errorf("%s: bucket %s is not emptied on delete", env, id)
		}
	}
	for id, cp := range resources(envs[env].templates["Cluster"], "AWS::ECS::CapacityProvider") {
		raw, _ := json.Marshal(cp)
		if !strings.Contains(string(raw), `"ManagedTerminationProtection":"DISABLED"`) {
			t.Errorf("%s: capacity provider %s has managed termination protection; the group could never be deleted", env, id)
		}
	}
}

// crossStackImport is one Fn::ImportValue: which export, produced by which
// stack, read by which stack.
type crossStackImport struct{ export, producer, consumer string }

// crossStackImports lists every export of an environment's templates with
// each place that imports it (one entry per Fn::ImportValue); an export
// nobody imports appears once with no consumer.
func crossStackImports(env string) []crossStackImport {
	producers := map[string]string{}
	for stack, tpl := range envs[env].templates {
		outputs, _ := tpl["Outputs"].(map[string]any)
		for _, o := range outputs {
			if exp, ok := o.(map[string]any)["Export"].(map[string]any); ok {
				producers[fmt.Sprint(exp["Name"])] = stack
			}
		}
	}
	var out []crossStackImport
	imported := map[string]bool{}
	for stack, tpl := range envs[env].templates {
		walk(tpl["Resources"], "", func(_, key string, v any) {
			if key == "Fn::ImportValue" {
				name := fmt.Sprint(v)
				imported[name] = true
				out = append(out, crossStackImport{name, producers[name], stack})
			}
		})
	}
	for name, producer := range producers {
		if !imported[name] {
			out = append(out, crossStackImport{export: name, producer: producer})
		}
	}
	return out
}

// exportMap renders, per environment, every export and the stacks that
// import it, one line each, sorted.
func exportMap(env string) string {
	consumers := map[[2]string][]string{} // producer, export -> consumers
	for _, i := range crossStackImports(env) {
		key := [2]string{i.producer, i.export}
		if _, ok := consumers[key]; !ok {
			consumers[key] = nil
		}
		if i.consumer != "" && !slices.Contains(consumers[key], i.consumer) {
			consumers[key] = append(consumers[key], i.consumer)
		}
	}
	var lines []string
	for key, c := range consumers {
		sort.Strings(c)
		if len(c) == 0 {
			c = []string{"(unused: kept alive with ExportValue?)"}
		}
		lines = append(lines, fmt.Sprintf("%s %s -> %s", key[0], key[1][strings.Index(key[1], ":")+1:], strings.Join(c, ", ")))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// TestCrossStackExports keeps testdata/ENV/exports.txt, the list of every
// export with its producer and consumers, in step with the templates, so a
// pull request that adds or drops a cross-stack reference shows it in one
// readable file. Dropping an export that a deployed stack still imports
// fails the deploy; see the README on removing a reference in two steps.
func TestCrossStackExports(t *testing.T) {
	for _, env := range config.Names() {
		got := exportMap(env)
		checkGolden(t, filepath.Join("testdata", env, "exports.txt"), []byte(got), "lists other cross-stack references (review them)", "go test ./... -update")
		for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
			if strings.Contains(line, "(unused") {
				t.Logf("%s: %s", env, line)
			}
		}
	}
}
