package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/platform/internal/cfn"
)

// AWS Control Tower's proactive controls are CloudFormation hooks: an
// organization that turns one on refuses any stack that creates a resource
// the control's guard rule fails. The rules and the cfn-guard binary come
// pinned from npm (@cdklabs/cdk-validator-cfnguard, package.json), and the
// tests run them over every template of every environment.

// guardPackage is where npm ci puts the rules and the binary.
var guardPackage = filepath.Join("node_modules", "@cdklabs", "cdk-validator-cfnguard")

// controlAck acknowledges a control's finding instead of fixing it: one
// guard rule, on the resources of one stack whose logical ID matches
// resource (without the hash), in the environments named (all if none),
// with the reason. holds, where set, checks the reason itself on the
// template (the value the rule cannot read really is compliant). An entry
// that matches no finding fails TestControlTowerControls as stale.
type controlAck struct {
	rule          string
	envs          []string
	stack         string
	resource      string
	reason        string
	holds         func(t checkT, w world, r cfn.Ref)
	matchedInEnvs []string
}

// importsTheLogsKey: a log group's KmsKeyId is the Network stack's logs key.
func importsTheLogsKey(t checkT, w world, r cfn.Ref) {
	key, ok := w.Resolve(r.Stack, w.Props(r)["KmsKeyId"])
	if assert.True(t, ok, "%s: KmsKeyId %s is not a key of this app", r, cfn.JSON(w.Props(r)["KmsKeyId"])) {
		assert.Equal(t, "AWS::KMS::Key", w.Type(key), "%s: KmsKeyId", r)
	}
}

var controlAcks = []controlAck{
	{"cloudwatch_log_group_encrypted_check", nil, "(Cache|Database|LoadBalancer|Service)", "", "the log group is encrypted with the Network stack's customer-managed logs key, " +
		"imported with Fn::ImportValue; the rule accepts only a string or a reference inside the same template (rule source: " +
		"check_is_string_and_not_empty or check_local_references), and the test follows the import to the key", importsTheLogsKey, nil},
	{"rds_storage_encrypted_kms_key_check", nil, "Database", "^Database$", "StorageEncrypted with the Secrets stack's customer-managed key, imported with " +
		"Fn::ImportValue, which the rule cannot follow (the rule accepts a string or a local Ref/GetAtt only); the test follows the import to the key",
		func(t checkT, w world, r cfn.Ref) {
			key, ok := w.Resolve(r.Stack, w.Props(r)["KmsKeyId"])
			if assert.True(t, ok, "%s: KmsKeyId is not a key of this app", r) {
				assert.Equal(t, "AWS::KMS::Key", w.Type(key))
			}
		}, nil},
	{"ecs_container_insights_enabled_check", []string{"prod"}, "Cluster", "^Cluster$", "prod runs Container Insights with enhanced observability, a superset of " +
		"\"enabled\": the rule accepts only the value \"enabled\"",
		func(t checkT, w world, r cfn.Ref) {
			assert.Contains(t, cfn.JSON(w.Props(r)["ClusterSettings"]), `"Value":"enhanced"`)
		}, nil},
	{"autoscaling_multiple_az_check", nil, "Cluster", "^InstancesASG$", "the group spans one private subnet per configured zone (2 or 3, validated) " +
		"through VPCZoneIdentifier; the rule reads only AvailabilityZones, and naming the zones there is what the CDK's validator " +
		"warns against (W3010, hardcoded zones)",
		func(t checkT, w world, r cfn.Ref) {
			assert.GreaterOrEqual(t, len(cfn.List(w.Props(r)["VPCZoneIdentifier"])), 2, "%s: subnets in at least two zones", r)
		}, nil},
	{"autoscaling_mixed_instances_policy_multiple_instance_types_check", nil, "Cluster", "^InstancesASG$", "one instance type keeps capacity " +
		"predictable: validation computes the tasks per instance from that type's network interfaces, CPU and memory (lib/config/capacity.go), " +
		"and a second type would change what a deployment of two revisions fits into", nil, nil},
	{"rds_instance_no_default_ports_check", nil, "Database", "^Database$", "PostgreSQL keeps its default port 5432: the database security group admits " +
		"only the application and the rotation function, so another port adds no protection (the same reason as the cdk-nag RDS11 suppression)", nil, nil},
	{"lambda_inside_vpc_check", nil, "(Network|LoadBalancer)", "^Custom(VpcRestrictDefaultSG|S3AutoDeleteObjects)CustomResourceProviderHandler$",
		"the CDK's own custom-resource provider (restricting the default security group; emptying dev's bucket) runs only while CloudFormation deploys and " +
			"calls only EC2 or S3 APIs; in the VPC it would need those endpoints in dev too", nil, nil},
	{"lambda_inside_vpc_check", nil, "Database", "^DatabaseUserFunction$", "the database-user function runs in the private subnets behind the rotation " +
		"security group, both imported from the Network stack with Fn::ImportValue, which the rule cannot follow (it accepts a string or a local " +
		"Ref/GetAtt); the hook sees the resolved IDs; the test follows the imports to the subnets and the group",
		func(t checkT, w world, r cfn.Ref) {
			vpc := cfn.Object(w.Props(r)["VpcConfig"])
			for key, typ := range map[string]string{"SubnetIds": "AWS::EC2::Subnet", "SecurityGroupIds": "AWS::EC2::SecurityGroup"} {
				ids := cfn.List(vpc[key])
				assert.NotEmpty(t, ids, "%s: VpcConfig.%s", r, key)
				for _, id := range ids {
					target, ok := w.Resolve(r.Stack, id)
					if assert.True(t, ok, "%s: %s %s is not a resource of this app", r, key, cfn.JSON(id)) {
						assert.Equal(t, typ, w.Type(target))
					}
				}
			}
		}, nil},
	{"lambda_inside_vpc_check", nil, "Database", "^DatabaseUserProviderframeworkonEvent$", "the CDK's provider framework answers CloudFormation " +
		"at a pre-signed S3 URL, which prod's closed network does not reach; it runs only while CloudFormation deploys and only invokes the " +
		"database-user function, which runs in the VPC", nil, nil},
	{"s3_bucket_default_encryption_kms_check", nil, "LoadBalancer", "^AccessLogs$", "ALB access logs can be delivered only to a bucket with SSE-S3 " +
		"(Elastic Load Balancing User Guide, enable-access-logging: \"The only server-side encryption option that's supported is Amazon S3-managed keys (SSE-S3)\")", nil, nil},
	{"s3_bucket_logging_enabled_check", nil, "LoadBalancer", "^AccessLogs$", "this bucket receives the load balancer's access logs; logging its own " +
		"access would need another bucket for a log of logs (the same reason as the cdk-nag S1 suppression)", nil, nil},
	{"s3_bucket_object_lock_enabled_check", nil, "LoadBalancer", "^AccessLogs$", "access logs expire by lifecycle (LoadBalancer.AccessLogRetentionDays) " +
		"and are versioned; object lock can only be set on a new bucket and would keep objects the retention must delete", nil, nil},
	{"s3_event_notifications_enabled_check", nil, "LoadBalancer", "^AccessLogs$", "nothing consumes events of the access logs; a notification " +
		"without a consumer adds a topic or queue and no protection", nil, nil},
	// Dev: cheap and destroyable on purpose (docs/configuration.md).
	{"cloudwatch_log_group_retention_period_check", []string{"dev"}, "", "", "dev keeps logs for 14 days to stay cheap; prod keeps a year", nil, nil},
	{"ec2_launch_template_monitoring_enabled_check", []string{"dev"}, "Cluster", "^LaunchTemplate$", "detailed monitoring is charged per instance; dev does without (Cluster.DetailedMonitoring)", nil, nil},
	{"alb_http_to_https_redirection_check", []string{"dev"}, "LoadBalancer", "^LoadBalancerHttp$", "dev has no certificate, so it serves HTTP only; prod redirects HTTP to HTTPS", nil, nil},
	{"elasticache_repl_grp_auto_failover_enabled_check", []string{"dev"}, "Cache", "^Redis$", "dev runs one cache node, with no replica to fail over to", nil, nil},
	{"elbv2_deletion_protection_enabled_check", []string{"dev"}, "LoadBalancer", "^LoadBalancer$", "dev is torn down by make destroy; prod's load balancer is deletion-protected", nil, nil},
	{"rds_instance_deletion_protection_enabled_check", []string{"dev"}, "Database", "^Database$", "dev is torn down by make destroy (a final snapshot is still taken); prod's database is deletion-protected", nil, nil},
	{"rds_instance_multi_az_support_check", []string{"dev"}, "Database", "^Database$", "dev runs single-AZ to stay cheap; prod runs Multi-AZ", nil, nil},
	{"rds_instance_backup_enabled_check", []string{"dev"}, "Database", "^Database$", "dev keeps one day of backups; prod keeps 14 (the control asks for 7)", nil, nil},
}

// controlFinding is one resource a control's rule fails.
type controlFinding struct {
	env, stack, resource, rule, control string
}

func (f controlFinding) String() string {
	return fmt.Sprintf("%s %s %s/%s %s", f.control, f.rule, f.env, f.stack, f.resource)
}

// guardRun is the Control Tower findings of one environment.
type guardRun struct {
	env      string
	done     chan struct{}
	findings []controlFinding
	err      error
}

var guardRuns []*guardRun

// startControls runs the Control Tower rules over the templates of every
// environment in assemblies (environment -> assembly directory), in the
// background (runControls).
func startControls(assemblies map[string]string) {
	runs := map[string]*guardRun{}
	for _, env := range sortedKeys(assemblies) {
		runs[env] = &guardRun{env: env, done: make(chan struct{})}
		guardRuns = append(guardRuns, runs[env])
	}
	go func() {
		findings, err := runControls(assemblies)
		for env, r := range runs {
			r.findings, r.err = findings[env], err
			close(r.done)
		}
	}()
}

func controlsDone() {
	for _, r := range guardRuns {
		<-r.done
	}
}

var (
	resourceType = regexp.MustCompile(`AWS::[A-Za-z0-9]+::[A-Za-z0-9]+`)
	controlID    = regexp.MustCompile(`\[(CT\.[A-Z0-9]+\.PR\.[0-9]+)\]`)
	resourcePath = regexp.MustCompile(`"/Resources/([^/"\[]+)`)
)

func guardBinary() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	osDir := map[string]string{"linux": "ubuntu", "darwin": "macos"}[runtime.GOOS]
	return filepath.Join(guardPackage, "bin", osDir, arch, "cfn-guard")
}

// guardRules maps each Control Tower rule file to the resource types it
// names, read once per test binary.
var guardRules = sync.OnceValues(func() (map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(guardPackage, "rules", "control-tower", "cfn-guard", "*", "*.guard"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no Control Tower guard rules under %s (%v): run npm ci", guardPackage, err)
	}
	rules := map[string][]string{}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		rules[f] = resourceType.FindAllString(string(text), -1)
	}
	return rules, nil
})

// runControls runs cfn-guard once per stack, over that stack's template in
// every environment, with the rules that name a resource type one of them
// has: a rule without such a resource passes anyway. cfn-guard's time grows
// with rules times templates, so one run per stack with its own rules is
// several times faster than every rule over every template (5.5 s against
// about 1.4 s for an environment), and one run for both environments' copy
// of a stack, which need nearly the same rules, reads those rules once:
// 2.05 s of CPU for dev and prod against 1.56 s, with the same findings.
func runControls(assemblies map[string]string) (map[string][]controlFinding, error) {
	rules, err := guardRules()
	if err != nil {
		return nil, err
	}
	// stack -> template file -> environment
	stacks := map[string]map[string]string{}
	for env, dir := range assemblies {
		templates, _ := filepath.Glob(filepath.Join(dir, "*.template.json"))
		for _, f := range templates {
			stack := strings.TrimSuffix(filepath.Base(f), ".template.json")
			if stacks[stack] == nil {
				stacks[stack] = map[string]string{}
			}
			stacks[stack][f] = env
		}
	}
	out := map[string][]controlFinding{}
	for _, stack := range sortedKeys(stacks) {
		args := []string{"validate", "--output-format", "json", "--structured", "--show-summary", "none"}
		types := map[string]bool{}
		for _, f := range sortedKeys(stacks[stack]) {
			text, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			for _, t := range resourceType.FindAllString(string(text), -1) {
				types[t] = true
			}
			args = append(args, "--data", f)
		}
		withRules := false
		for _, rule := range sortedKeys(rules) {
			if slices.ContainsFunc(rules[rule], func(t string) bool { return types[t] }) {
				args, withRules = append(args, "--rules", rule), true
			}
		}
		if !withRules {
			continue
		}
		findings, err := guardTemplates(stacks[stack], args)
		if err != nil {
			return nil, err
		}
		for _, f := range findings {
			out[f.env] = append(out[f.env], f)
		}
	}
	return out, nil
}

// guardTemplates runs cfn-guard once over the templates in envOf (template
// file -> its environment) and reads their findings.
func guardTemplates(envOf map[string]string, args []string) ([]controlFinding, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(guardBinary(), args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := runInBackground(cmd)
	// cfn-guard exits 19 when a rule fails; only output that is not its
	// report means it did not run.
	var report []struct {
		Name         string            `json:"name"`
		NotCompliant []json.RawMessage `json:"not_compliant"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		return nil, fmt.Errorf("cfn-guard: %v, %v\n%s", runErr, err, stderr.String())
	}
	if len(report) != len(envOf) {
		return nil, fmt.Errorf("cfn-guard reported on %d templates, it was given %d", len(report), len(envOf))
	}
	var out []controlFinding
	for _, file := range report {
		env, ok := envOf[file.Name]
		if !ok {
			return nil, fmt.Errorf("cfn-guard reported on %s, which it was not given", file.Name)
		}
		stack := strings.TrimSuffix(filepath.Base(file.Name), ".template.json")
		for _, raw := range file.NotCompliant {
			var nc struct {
				Rule struct {
					Name string `json:"name"`
				} `json:"Rule"`
			}
			if err := json.Unmarshal(raw, &nc); err != nil {
				return nil, err
			}
			control := ""
			if m := controlID.FindSubmatch(raw); m != nil {
				control = string(m[1])
			}
			ids := map[string]bool{}
			for _, m := range resourcePath.FindAllSubmatch(raw, -1) {
				ids[string(m[1])] = true
			}
			if len(ids) == 0 {
				return nil, fmt.Errorf("cfn-guard: %s on %s/%s names no resource", nc.Rule.Name, env, stack)
			}
			for _, id := range sortedKeys(ids) {
				out = append(out, controlFinding{env: env, stack: stack, resource: id, rule: nc.Rule.Name, control: control})
			}
		}
	}
	return out, nil
}

// TestControlTowerControls fails on every finding of AWS Control Tower's
// proactive controls in any template of any environment that controlAcks
// does not acknowledge, on every acknowledgement that matches no finding,
// and where an acknowledgement's reason does not hold on the template.
func TestControlTowerControls(t *testing.T) {
	controlsDone()
	require.NotEmpty(t, guardRuns, "cfn-guard ran over no environment")
	acks := slices.Clone(controlAcks)
	for _, r := range guardRuns {
		require.NoError(t, r.err)
		w := newWorld(r.env)
		for _, f := range r.findings {
			i := slices.IndexFunc(acks, func(a controlAck) bool {
				return a.rule == f.rule && (len(a.envs) == 0 || slices.Contains(a.envs, f.env)) &&
					regexp.MustCompile(a.stack).MatchString(f.stack) && regexp.MustCompile(a.resource).MatchString(cfn.Unhashed(f.resource))
			})
			if !assert.GreaterOrEqual(t, i, 0, "Control Tower control fails, unacknowledged: %s", f) {
				continue
			}
			acks[i].matchedInEnvs = append(acks[i].matchedInEnvs, f.env)
			if acks[i].holds != nil {
				acks[i].holds(t, w, cfn.Ref{Stack: f.stack, ID: f.resource})
			}
		}
	}
	for _, a := range acks {
		assert.NotEmpty(t, a.matchedInEnvs, "stale Control Tower acknowledgement of %s on %s %s: it matches no finding; remove it", a.rule, a.stack, a.resource)
		for _, env := range a.envs {
			assert.Contains(t, a.matchedInEnvs, env, "acknowledgement of %s on %s %s names %s, where it matches nothing", a.rule, a.stack, a.resource, env)
		}
		assert.GreaterOrEqual(t, len(a.reason), 40, "acknowledgement of %s has no reason", a.rule)
	}
	for _, r := range guardRuns {
		t.Logf("%s: %d Control Tower findings, all acknowledged", r.env, len(r.findings))
	}
}

// controlsTable is the generated section of docs/governance.md: the
// pinned rule set and every acknowledged finding with its reason.
func controlsTable(t *testing.T) string {
	t.Helper()
	var pkg struct {
		Version string `json:"version"`
	}
	var guardVersion struct {
		Version string `json:"version"`
	}
	for path, into := range map[string]any{filepath.Join(guardPackage, "package.json"): &pkg, filepath.Join(guardPackage, "guard-version.json"): &guardVersion} {
		raw, err := os.ReadFile(path)
		require.NoError(t, err, "run npm ci")
		require.NoError(t, json.Unmarshal(raw, into))
	}
	rules, err := filepath.Glob(filepath.Join(guardPackage, "rules", "control-tower", "cfn-guard", "*", "*.guard"))
	require.NoError(t, err)
	ids := map[string]string{}
	for _, r := range rules {
		text, err := os.ReadFile(r)
		require.NoError(t, err)
		if m := controlID.FindSubmatch(text); m != nil {
			for _, name := range regexp.MustCompile(`(?m)^rule ([a-z0-9_]+) when`).FindAllSubmatch(text, -1) {
				ids[string(name[1])] = string(m[1])
			}
		}
	}
	lines := []string{
		fmt.Sprintf("Rules: `@cdklabs/cdk-validator-cfnguard` %s, %d AWS Control Tower proactive controls as cfn-guard rules, run by cfn-guard %s.", pkg.Version, len(rules), guardVersion.Version),
		"",
		"| control | rule | where | why it is acknowledged |",
		"|---|---|---|---|",
	}
	for _, a := range controlAcks {
		envs := "dev, prod"
		if len(a.envs) > 0 {
			envs = strings.Join(a.envs, ", ")
		}
		where := envs + ": " + strings.Trim(a.stack, "^$()")
		if a.stack == "" {
			where = envs + ": every stack"
		}
		if r := strings.Trim(a.resource, "^$"); r != "" {
			where += " / " + r
		}
		lines = append(lines, fmt.Sprintf("| %s | `%s` | %s | %s |", ids[a.rule], a.rule, strings.ReplaceAll(where, "|", ", "), strings.ReplaceAll(a.reason, "|", "/")))
	}
	return strings.Join(lines, "\n") + "\n"
}
