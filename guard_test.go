package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/internal/guard"
	"github.com/example/platform/lib/config"
)

// The replacement guard compares what a change deploys with what was
// reviewed before: the goldens in the working tree, or with GUARD_BASE=REV
// (a pull request's base) the goldens as committed at REV. A stack is
// matched by its identity (name, account, region), not by its construct
// ID, so a renamed stack shows as what it is: a new, empty stack, and an
// old one whose resources are destroyed or orphaned.

const (
	// guardedTypesFile maps each resource type that holds data or identity
	// outside AWS to why; make diff marks the same types.
	guardedTypesFile = "tools/guarded-types.json"
	// allowListFile lists intended destructive changes, each exactly.
	allowListFile = "testdata/allowed-replacements.json"
)

func guardedTypes(t *testing.T) map[string]string {
	t.Helper()
	types, err := guard.ReadGuardedTypes(guardedTypesFile)
	require.NoError(t, err)
	return types
}

func readAllowList(t *testing.T) []guard.Entry {
	t.Helper()
	list, err := guard.ReadAllowList(allowListFile)
	assert.NoError(t, err)
	return list
}

// identities are the stacks of a synthesized configuration.
func identities(env string) map[string]guard.Identity {
	out := map[string]guard.Identity{}
	for _, s := range envs[env].platform.Stacks() {
		out[*s.ArtifactId()] = guard.Identity{StackName: *s.StackName(), Account: *s.Account(), Region: *s.Region(), TerminationProtection: *s.TerminationProtection()}
	}
	return out
}

// reviewedStacks is the reviewed state of env: its golden templates and
// the identities recorded beside them, in the working tree of repo or, with
// a base, as committed there.
func reviewedStacks(t scratchT, repo, base, env string) []guard.Stack {
	t.Helper()
	stacks, err := guard.Reviewed(guard.Source{Repo: repo, Rev: base, Scratch: t.TempDir()}, filepath.Join("testdata", env), identities(env))
	require.NoError(t, err)
	return stacks
}

// synthesizedStacks is what the current synthesis of env would deploy.
func synthesizedStacks(env string) []guard.Stack {
	var out []guard.Stack
	for id, ident := range identities(env) {
		out = append(out, guard.Stack{ID: id, Identity: ident, File: filepath.Join(envs[env].outdir, id+".template.json"), Template: envs[env].templates[id]})
	}
	slices.SortFunc(out, func(a, b guard.Stack) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// guardBase is the revision the guard compares with: GUARD_BASE, or "" for
// the working tree's goldens.
// guardBase is the revision the guard compares with: GUARD_BASE (CI sets
// the pull request's merge base or, on main, the previous commit), else
// locally HEAD, so a developer sees what CI will see; "" where there is no
// history (CI must not get there: TestReplacementGuard fails).
func guardBase() string {
	if base, ok := os.LookupEnv("GUARD_BASE"); ok || os.Getenv("CI") == "true" {
		return base
	}
	if err := exec.Command("git", "rev-parse", "-q", "--verify", "HEAD^{commit}").Run(); err != nil {
		return ""
	}
	return "HEAD"
}

// judgement is one run of the diff engine, made once per test binary, over
// every comparison the guard's tests need, each under its own label: the
// committed environments against what was reviewed (labelled by their
// names), the runbooks' changes ("runbook-NAME"), the scenarios
// ("scenario-N") and the hand-edited goldens ("handedit-..."). One Node
// process for all of them keeps the suite fast.
var judgement struct {
	once sync.Once
	v    guard.Verdict
	// scenarios are the cases of TestReplacementGuardCatches, in the
	// order of their labels.
	scenarios []guardScenario
	// handEditBroken says why the hand edit could not be made.
	handEditBroken string
	// ok is set once the judgement completed; a guard that failed to
	// judge refuses every write.
	ok bool
}

func judged(t *testing.T) guard.Verdict {
	t.Helper()
	judgement.once.Do(func() {
		var cs []guard.Comparison
		for _, env := range config.Names() {
			cs = append(cs, guard.Comparison{Label: env, Reviewed: reviewedStacks(t, ".", guardBase(), env), Deployed: synthesizedStacks(env)})
		}
		allow := readAllowList(t)
		for _, c := range runbookComparisons(t) {
			c.Label = "runbook-" + c.Label
			cs = append(cs, c)
		}
		judgement.scenarios = guardScenarios(t)
		for i, sc := range judgement.scenarios {
			label := fmt.Sprintf("scenario-%d", i)
			cs = append(cs, guard.Comparison{Label: label, Reviewed: sc.before, Deployed: sc.after})
			for _, e := range sc.allow {
				e.Env = label
				allow = append(allow, e)
			}
		}
		// Built like the scenarios: if it cannot be, it fails alone.
		rec, panicked := record(func(r *recorder) {
			cs = append(cs, handEditComparisons(scenarioT{recorder: r, dir: t.TempDir})...)
		})
		if len(rec.errors) > 0 || panicked != nil {
			judgement.handEditBroken = fmt.Sprintf("%v %v", rec.errors, panicked)
		}
		opts := guard.Options{Guarded: guardedTypes(t), Allow: allow, CheckStale: true, PlaceholderAccounts: config.PlaceholderAccounts}
		if base := guardBase(); base != "" {
			// The guard's own configuration as the base has it: a change
			// cannot silence the guard by shrinking its list.
			var err error
			opts.BaseGuarded, opts.BaseAllow, err = guard.ReadConfig(guard.Source{Repo: ".", Rev: base, Scratch: t.TempDir()}, guardedTypesFile, allowListFile)
			require.NoError(t, err)
		}
		review, err := diffEngine(t).Review(cs, opts)
		require.NoError(t, err)
		judgement.v = review.Verdict
		judgement.ok = true
	})
	return judgement.v
}

// labelled keeps the lines of one comparison's label.
func labelled(lines []string, label string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, label+"/") {
			out = append(out, l)
		}
	}
	return out
}

// verdictOf is the part of the judgement under the labels that pass keep.
// Stale allow-list entries count only where stale says.
func verdictOf(t *testing.T, keep func(label string) bool, stale bool) guard.Verdict {
	t.Helper()
	all := judged(t)
	var v guard.Verdict
	pick := func(lines []string) []string {
		var out []string
		for _, l := range lines {
			if label, _, ok := strings.Cut(l, "/"); ok && keep(label) {
				out = append(out, l)
			}
		}
		return out
	}
	v.Violations, v.Allowed, v.Done = pick(all.Violations), pick(all.Allowed), pick(all.Done)
	if stale {
		v.Stale = pick(all.Stale)
	}
	return v
}

// currentVerdict judges the current synthesis of every environment against
// what was reviewed: TestReplacementGuard reports it, and -update writes
// nothing under testdata/ unless it is clean. Stale entries only mean
// something against a base: the working tree's goldens equal the synthesis
// once they are updated.
func currentVerdict(t *testing.T) guard.Verdict {
	t.Helper()
	return verdictOf(t, func(label string) bool { return slices.Contains(config.Names(), label) }, guardBase() != "")
}

// runbookVerdict is the judgement of the runbooks' changes.
func runbookVerdict(t *testing.T) guard.Verdict {
	t.Helper()
	return verdictOf(t, func(label string) bool { return strings.HasPrefix(label, "runbook-") }, false)
}

// TestReplacementGuard fails when the current synthesis would replace,
// destroy or orphan a resource that holds data or identity, or one another
// stack imports, compared with what was reviewed, unless the allow-list
// names exactly that change; and, compared with a base, when an allow-list
// entry matches nothing.
func TestReplacementGuard(t *testing.T) {
	if os.Getenv("CI") == "true" && guardBase() == "" {
		assert.Fail(t, "no base revision", "under CI=true the guard must compare with the base's goldens, or hand-edited goldens would pass: "+
			"clone with history (actions/checkout fetch-depth: 0) so .ci/run can set GUARD_BASE")
	}
	v := currentVerdict(t)
	for _, a := range v.Allowed {
		t.Log("passes: " + a)
	}
	for _, d := range v.Done {
		t.Log("allow-list: " + d)
	}
	for _, bad := range v.Violations {
		assert.Fail(t, "the replacement guard refuses this change", "%s\n(allow-list: %s)", bad, allowListFile)
	}
	for _, s := range v.Stale {
		assert.Fail(t, "stale allow-list entry", "%s (%s)", s, allowListFile)
	}
}

// writesRefused is why -update may not rewrite anything under testdata/,
// or "".
func writesRefused(t *testing.T) string {
	v := currentVerdict(t)
	if !judgement.ok {
		return "not rewriting anything under testdata/: the replacement guard could not judge the change (see the errors above)"
	}
	if len(v.Violations)+len(v.Stale) == 0 {
		return ""
	}
	return "not rewriting anything under testdata/: the replacement guard refuses this change:\n" +
		strings.Join(append(v.Violations, v.Stale...), "\n") + "\nallow intended changes exactly in " + allowListFile
}

// diffEngine runs tools/cfndiff.js with the pinned Node.
func diffEngine(t *testing.T) guard.Engine {
	t.Helper()
	node := pinned(t, "node").Path
	return guard.Engine{Node: node, Script: filepath.Join("tools", "cfndiff.js"), Scratch: t.TempDir()}
}

// TestStackIdentities keeps testdata/ENV/stacks.json, each stack's name,
// account and region, in step with the app: they are part of what review
// sees, and the guard matches stacks by them.
func TestStackIdentities(t *testing.T) {
	for _, env := range config.Names() {
		raw, err := json.MarshalIndent(identities(env), "", " ")
		require.NoError(t, err)
		checkGolden(t, filepath.Join("testdata", env, "stacks.json"), append(raw, '\n'), "differs from the app's stacks (a renamed stack is a new stack)", "make update-golden")
	}
}

// scratchT is what building a scenario reports through: a recorder, so one
// scenario that cannot be built (a resource an edit renamed) fails alone
// while every other scenario and the guard over the environments still
// run; with the test's temporary directory for the templates it writes.
type scratchT interface {
	checkT
	TempDir() string
}

type scenarioT struct {
	*recorder
	dir func() string
}

func (s scenarioT) TempDir() string { return s.dir() }

// mutated returns states with the resources of stack id copied and
// changed by fn.
func mutated(t scratchT, states []guard.Stack, id string, fn func(res map[string]any)) []guard.Stack {
	t.Helper()
	return mutatedTemplate(t, states, id, func(tpl map[string]any) { fn(cfn.Object(at(t, tpl, "Resources"))) })
}

// mutatedTemplate returns states with the template of stack id copied and
// changed by fn.
func mutatedTemplate(t scratchT, states []guard.Stack, id string, fn func(tpl map[string]any)) []guard.Stack {
	t.Helper()
	out := slices.Clone(states)
	i := slices.IndexFunc(out, func(s guard.Stack) bool { return s.ID == id })
	require.GreaterOrEqual(t, i, 0, "no stack %s", id)
	raw, err := json.Marshal(out[i].Template)
	require.NoError(t, err)
	var tpl cfn.Template // a deep copy: the original may be a synthesis everyone reads
	require.NoError(t, json.Unmarshal(raw, &tpl))
	fn(tpl)
	raw, _ = json.Marshal(tpl)
	out[i].Template = tpl
	out[i].File = filepath.Join(t.TempDir(), id+".template.json")
	require.NoError(t, os.WriteFile(out[i].File, raw, 0o644))
	return out
}

// withIdentities returns states with each identity changed by fn.
func withIdentities(states []guard.Stack, fn func(id string, i *guard.Identity)) []guard.Stack {
	out := slices.Clone(states)
	for i := range out {
		fn(out[i].ID, &out[i].Identity)
	}
	return out
}

// withoutExport returns states with the outputs of stack id whose export
// name contains part removed.
func withoutExport(t scratchT, states []guard.Stack, id, part string) []guard.Stack {
	t.Helper()
	return mutatedTemplate(t, states, id, func(tpl map[string]any) {
		outputs := cfn.Object(at(t, tpl, "Outputs"))
		removed := 0
		for name, o := range outputs {
			if exp, ok := cfn.Object(o)["Export"].(map[string]any); ok && strings.Contains(fmt.Sprint(exp["Name"]), part) {
				delete(outputs, name)
				removed++
			}
		}
		require.Positive(t, removed, "no export of %s contains %s", id, part)
	})
}

// propertiesOf returns the Properties of resource id, failing (and
// stopping the scenario) where there is no such resource.
func propertiesOf(t checkT, res map[string]any, id string) map[string]any {
	t.Helper()
	props := cfn.Props(cfn.Object(res[id]))
	require.NotNil(t, props, "no resource %s with properties", id)
	return props
}

// firstOfType is the logical ID of the first resource of typ.
func firstOfType(t checkT, res map[string]any, typ string) string {
	t.Helper()
	ids := cfn.IDs(cfn.Template{"Resources": res}, typ)
	require.NotEmpty(t, ids, "no resource %s", typ)
	return ids[0]
}

// idOfType is the logical ID of the first resource of typ in a stack.
func idOfType(t checkT, states []guard.Stack, stack, typ string) string {
	t.Helper()
	i := slices.IndexFunc(states, func(s guard.Stack) bool { return s.ID == stack })
	require.GreaterOrEqual(t, i, 0, "no stack %s", stack)
	return firstOfType(t, cfn.Object(states[i].Template["Resources"]), typ)
}

// guardScenario is a realistic change as a reviewer would make it, with
// what the guard must say about it.
type guardScenario struct {
	name          string
	before, after []guard.Stack
	allow         []guard.Entry
	// want are substrings of one violation each; none means it passes.
	want []string
	// broken says why the scenario could not be built.
	broken string
}

// guardScenarios are the changes TestReplacementGuardCatches feeds the
// guard, on known values whatever is committed: the fixture's prod after
// its first release, before and after each scenario's edit. Resources are
// found by type, so a renamed construct breaks no scenario; one that
// cannot be built is reported alone.
func guardScenarios(t *testing.T) []guardScenario {
	t.Helper()
	const env = "release"
	golden, current := synthesizedStacks(env), synthesizedStacks(env)
	type build func(t scratchT) guardScenario
	scenario := func(name string, want []string, b func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry)) build {
		return func(t scratchT) guardScenario {
			before, after, allow := b(t)
			return guardScenario{name: name, before: before, after: after, allow: allow, want: want}
		}
	}
	change := func(t scratchT, stack string, fn func(res map[string]any)) []guard.Stack {
		return mutated(t, golden, stack, fn)
	}
	resourceOf := func(stack, typ string) func(t scratchT, fn func(t scratchT, props map[string]any)) []guard.Stack {
		return func(t scratchT, fn func(t scratchT, props map[string]any)) []guard.Stack {
			return mutated(t, current, stack, func(res map[string]any) { fn(t, propertiesOf(t, res, firstOfType(t, res, typ))) })
		}
	}
	database, cacheGroup := resourceOf("Database", "AWS::RDS::DBInstance"), resourceOf("Cache", "AWS::ElastiCache::ReplicationGroup")
	moved := func(account, region string, rename func(string) string) []guard.Stack {
		return withIdentities(current, func(_ string, i *guard.Identity) {
			i.Account, i.Region, i.StackName = account, region, rename(i.StackName)
		})
	}
	same := func(name string) string { return name }
	// rolling is the scenarios' service as a rolling deployment, without
	// its alternate target where bare.
	rolling := func(t scratchT, bare bool) []guard.Stack {
		return mutated(t, current, "Service", func(res map[string]any) {
			p := propertiesOf(t, res, firstOfType(t, res, "AWS::ECS::Service"))
			delete(cfn.Object(p["DeploymentConfiguration"]), "Strategy")
			if bare {
				for _, lb := range cfn.List(p["LoadBalancers"]) {
					delete(cfn.Object(lb), "AdvancedConfiguration")
				}
			}
		})
	}

	builds := []build{
		scenario("registry stack renamed", []string{
			"Registry: stack webapp-prod-registry (account 123456789012, eu-west-1) is renamed or moved to webapp-prod-ecr (account 123456789012, eu-west-1): " +
				"cdk deploy creates that stack anew, empty, and never deletes the old one, which keeps its resources and data",
			"resources, holding 1 AWS::ECR::Repository)"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, withIdentities(current, func(id string, i *guard.Identity) {
					if id == "Registry" {
						i.StackName = "webapp-prod-ecr"
					}
				}), nil
			}),
		scenario("prod moves to another region", []string{
			"(environment): moves from 123456789012/eu-west-1 to 123456789012/us-east-1: every stack would be created anew, empty; cdk deploy never deletes a stack that left the app"},
			func(scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, moved("123456789012", "us-east-1", same), nil
			}),
		scenario("prod moves from one real account to another", []string{"(environment): moves from 123456789012/eu-west-1 to 999999999999/eu-west-1"},
			func(scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, moved("999999999999", "eu-west-1", same), nil
			}),
		scenario("the app is renamed", []string{"(environment): moves from 123456789012/eu-west-1 to 123456789012/eu-west-1", "Network webapp-prod-network -> shop-prod-network"},
			func(scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, moved("123456789012", "eu-west-1", func(n string) string { return strings.Replace(n, "webapp-", "shop-", 1) }), nil
			}),
		scenario("the region move, allowed", nil, func(scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
			return golden, moved("123456789012", "us-east-1", same), []guard.Entry{{Stack: "(environment)", LogicalID: "(all stacks)", Change: guard.Move, Reason: "the platform moves to us-east-1; data migrated by hand"}}
		}),
		scenario("VPC CIDR changed", []string{"Network: replace AWS::EC2::VPC", "(changed: CidrBlock): LoadBalancer imports it, so CloudFormation will refuse the deploy",
			"Network: replace AWS::EC2::Subnet VpcPrivateSubnet1Subnet", "(changed: VpcId): Cache, Cluster, Database, Service imports it"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return change(t, "Network", func(res map[string]any) {
					propertiesOf(t, res, firstOfType(t, res, "AWS::EC2::VPC"))["CidrBlock"] = "10.99.0.0/16"
				}), current, nil
			}),
		scenario("security group description changed", []string{"Network: replace AWS::EC2::SecurityGroup", "(changed: GroupDescription)", "imports it, so CloudFormation will refuse the deploy"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return change(t, "Network", func(res map[string]any) {
					propertiesOf(t, res, firstOfType(t, res, "AWS::EC2::SecurityGroup"))["GroupDescription"] = "renamed"
				}), current, nil
			}),
		scenario("DatabaseName changed under an entry for EngineVersion", []string{"Database: replace AWS::RDS::DBInstance", "(changed: DBName): it holds the database"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				db := idOfType(t, current, "Database", "AWS::RDS::DBInstance")
				return golden, database(t, func(_ scratchT, p map[string]any) { p["DBName"] = "shop" }),
					[]guard.Entry{{Stack: "Database", LogicalID: db, Change: guard.Replace, Properties: []string{"EngineVersion"}, Reason: "the major upgrade this entry was written for"}}
			}),
		scenario("database construct renamed", []string{"Database: destroy AWS::RDS::DBInstance", "the construct was renamed (the change adds Postgres of the same type): restore its construct ID, or pin the logical ID with OverrideLogicalId"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, mutated(t, current, "Database", func(res map[string]any) {
					id := firstOfType(t, res, "AWS::RDS::DBInstance")
					res["Postgres"] = res[id]
					delete(res, id)
				}), nil
			}),
		scenario("database identifier changed", []string{"Database: replace AWS::RDS::DBInstance", "(changed: DBInstanceIdentifier)"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, database(t, func(_ scratchT, p map[string]any) { p["DBInstanceIdentifier"] = "webapp-prod-2" }), nil
			}),
		scenario("database engine changed, allowed exactly", nil, func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
			db := idOfType(t, current, "Database", "AWS::RDS::DBInstance")
			return golden, database(t, func(_ scratchT, p map[string]any) { p["Engine"] = "mysql" }),
				[]guard.Entry{{Stack: "Database", LogicalID: db, Change: guard.Replace, Properties: []string{"Engine"}, Reason: "an engine change this test intends"}}
		}),
		scenario("PostgreSQL major upgrade: a new parameter group, the instance in place", nil, func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
			return golden, mutated(t, current, "Database", func(res map[string]any) {
				propertiesOf(t, res, firstOfType(t, res, "AWS::RDS::DBInstance"))["EngineVersion"] = "17"
				propertiesOf(t, res, firstOfType(t, res, "AWS::RDS::DBParameterGroup"))["Family"] = "postgres17"
			}), nil
		}),
		scenario("deletion protection turned off", []string{"Database: weaken AWS::RDS::DBInstance", ": DeletionProtection true -> false: the database can be deleted by accident"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, database(t, func(_ scratchT, p map[string]any) { p["DeletionProtection"] = false }), nil
			}),
		scenario("Multi-AZ and backups reduced", []string{": MultiAZ true -> false: the database loses its standby", ": BackupRetentionPeriod 14 -> 1: fewer days of backups"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, database(t, func(_ scratchT, p map[string]any) { p["MultiAZ"] = false; p["BackupRetentionPeriod"] = 1.0 }), nil
			}),
		scenario("termination protection turned off", []string{"Service: weaken AWS::CloudFormation::Stack (stack): TerminationProtection true -> false"},
			func(scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, withIdentities(current, func(id string, i *guard.Identity) { i.TerminationProtection = id != "Service" }), nil
			}),
		scenario("the firewall turned off", []string{"LoadBalancer: weaken AWS::WAFv2::WebACL WebAcl: web ACL removed: the load balancer loses its firewall",
			"LoadBalancer: weaken AWS::WAFv2::WebACLAssociation WebAclAssociation: web ACL association removed"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, mutated(t, current, "LoadBalancer", func(res map[string]any) {
					for _, typ := range []string{"AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation", "AWS::WAFv2::LoggingConfiguration"} {
						delete(res, firstOfType(t, res, typ))
					}
				}), nil
			}),
		scenario("the Secrets Manager endpoint dropped", []string{"Network: weaken AWS::EC2::VPCEndpoint com.amazonaws.eu-west-1.secretsmanager: VPC endpoint removed"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, mutated(t, current, "Network", func(res map[string]any) {
					for id, r := range cfn.Resources(cfn.Template{"Resources": res}, "AWS::EC2::VPCEndpoint") {
						if strings.Contains(cfn.JSON(cfn.Props(r)["ServiceName"]), "secretsmanager") {
							delete(res, id)
						}
					}
				}), nil
			}),
		scenario("egress opened to the internet", []string{"Network: weaken AWS::EC2::SecurityGroup ServiceSecurityGroup", ": egress tcp/443 to 0.0.0.0/0 added: a port opens to the whole internet"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, mutated(t, current, "Network", func(res map[string]any) {
					for id := range cfn.Resources(cfn.Template{"Resources": res}, "AWS::EC2::SecurityGroup") {
						if cfn.Unhashed(id) == "ServiceSecurityGroup" {
							props := propertiesOf(t, res, id)
							props["SecurityGroupEgress"] = append(cfn.List(props["SecurityGroupEgress"]),
								map[string]any{"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443.0, "ToPort": 443.0, "Description": "anywhere"})
						}
					}
				}), nil
			}),
		scenario("cache encryption at rest changed", []string{"Cache: replace AWS::ElastiCache::ReplicationGroup", "(changed: AtRestEncryptionEnabled)"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, cacheGroup(t, func(_ scratchT, p map[string]any) { p["AtRestEncryptionEnabled"] = false }), nil
			}),
		scenario("key removed under an entry for a replacement", []string{"Secrets: orphan AWS::KMS::Key", ": data encrypted with it can only be read with it"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				key := idOfType(t, current, "Secrets", "AWS::KMS::Key")
				return golden, mutated(t, current, "Secrets", func(res map[string]any) { delete(res, key) }),
					[]guard.Entry{{Stack: "Secrets", LogicalID: key, Change: guard.Replace, Properties: []string{"Description"}, Reason: "an entry for another change type"}}
			}),
		scenario("real account committed in place of the placeholder", nil, func(scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
			return withIdentities(golden, func(_ string, i *guard.Identity) { i.Account = config.PlaceholderAccounts[1] }), current, nil
		}),
		scenario("export removed while another stack imports it", []string{
			"/Network: export webapp-prod-network:ExportsOutputRefVpc", "is removed while LoadBalancer import it in the deployed stacks, so CloudFormation will refuse the deploy"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, withoutExport(t, current, "Network", "ExportsOutputRefVpc"), nil
			}),
		scenario("a tag on the production listener rule", []string{"LoadBalancer: reroute AWS::ElasticLoadBalancingV2::ListenerRule ProductionRule",
			"(changed: Tags): ECS moves the weights of the production listener rule", "sends all traffic to the group without tasks"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, mutated(t, current, "LoadBalancer", func(res map[string]any) {
					propertiesOf(t, res, firstOfType(t, res, "AWS::ElasticLoadBalancingV2::ListenerRule"))["Tags"] = []any{map[string]any{"Key": "Team", "Value": "web"}}
				}), nil
			}),
		scenario("the production rule's target group replaced", []string{"LoadBalancer: reroute AWS::ElasticLoadBalancingV2::ListenerRule ProductionRule", "TargetGroup", " replaced): ECS moves the weights"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, mutated(t, current, "LoadBalancer", func(res map[string]any) {
					propertiesOf(t, res, firstOfType(t, res, "AWS::ElasticLoadBalancingV2::TargetGroup"))["Port"] = 8081.0
				}), nil
			}),
		scenario("the listener's default action changed", []string{"LoadBalancer: reroute AWS::ElasticLoadBalancingV2::Listener", "(changed: DefaultActions)"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return golden, mutated(t, current, "LoadBalancer", func(res map[string]any) {
					rule := propertiesOf(t, res, firstOfType(t, res, "AWS::ElasticLoadBalancingV2::ListenerRule"))
					listener := propertiesOf(t, res, cfn.RefID(rule["ListenerArn"]))
					listener["DefaultActions"] = []any{map[string]any{"Type": "fixed-response", "FixedResponseConfig": map[string]any{"StatusCode": "503"}}}
				}), nil
			}),
		scenario("a production rule change, allowed exactly", nil, func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
			rule := idOfType(t, current, "LoadBalancer", "AWS::ElasticLoadBalancingV2::ListenerRule")
			return golden, mutated(t, current, "LoadBalancer", func(res map[string]any) {
				propertiesOf(t, res, rule)["Priority"] = 50.0
			}), []guard.Entry{{Stack: "LoadBalancer", LogicalID: rule, Change: guard.Reroute, Properties: []string{"Priority"}, Reason: "deployed by the documented procedure, weights read first"}}
		}),
		scenario("a running service switched from rolling to linear in one deploy", []string{
			"Service: migrate AWS::ECS::Service Service", "from ROLLING to LINEAR in one deploy", "deploy Service.Rollout.AlternateTargetGroup true with the strategy still ROLLING"},
			func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
				return rolling(t, true), current, nil
			}),
		scenario("the switch to linear after the alternate target group", nil, func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
			return rolling(t, false), current, nil
		}),
		scenario("benign: instance class", nil, func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
			return golden, database(t, func(_ scratchT, p map[string]any) { p["DBInstanceClass"] = "db.m7g.xlarge" }), nil
		}),
		scenario("benign: cache node type", nil, func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
			return golden, cacheGroup(t, func(_ scratchT, p map[string]any) { p["CacheNodeType"] = "cache.r7g.xlarge" }), nil
		}),
		scenario("benign: alarm threshold", nil, func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
			return golden, change(t, "Monitoring", func(res map[string]any) {
				propertiesOf(t, res, firstOfType(t, res, "AWS::CloudWatch::Alarm"))["Threshold"] = 99.0
			}), nil
		}),
		scenario("an allow-list entry for a change that has already shipped", nil, func(t scratchT) ([]guard.Stack, []guard.Stack, []guard.Entry) {
			cache := idOfType(t, current, "Cache", "AWS::ElastiCache::ReplicationGroup")
			return golden, current, []guard.Entry{{Stack: "Cache", LogicalID: cache, Change: guard.Replace, Properties: []string{"EngineVersion"}, Reason: "an upgrade that has already shipped"}}
		}),
	}
	var out []guardScenario
	for _, b := range builds {
		var sc guardScenario
		r, panicked := record(func(r *recorder) {
			sc = b(scenarioT{recorder: r, dir: t.TempDir})
		})
		if len(r.errors) > 0 || panicked != nil {
			sc = guardScenario{name: sc.name, broken: fmt.Sprintf("%v %v", r.errors, panicked)}
		}
		out = append(out, sc)
	}
	return out
}

// TestReplacementGuardCatches feeds the guard realistic changes, each as a
// reviewer would make it, in the one run of the diff engine: each must be
// caught with a message that names the stack or resource, says replace,
// destroy or orphan and why; an exact allow-list entry lets a guarded one
// through, an entry for another property or change does not, and benign
// changes pass.
func TestReplacementGuardCatches(t *testing.T) {
	v := judged(t)
	require.True(t, judgement.ok, "the guard could not judge")
	var stale []string
	for i, sc := range judgement.scenarios {
		label := fmt.Sprintf("scenario-%d", i)
		stale = append(stale, labelled(v.Stale, label)...)
		t.Run(fmt.Sprintf("%d %s", i, sc.name), func(t *testing.T) {
			if !assert.Empty(t, sc.broken, "the scenario could not be built") {
				return
			}
			mine := labelled(v.Violations, label)
			if len(sc.want) == 0 {
				assert.Empty(t, mine)
				return
			}
			all := strings.Join(mine, "\n")
			for _, w := range sc.want {
				assert.Contains(t, all, w)
			}
			if sc.allow != nil {
				assert.NotContains(t, all, "allowed by the allow-list", "an entry for another property or change type let it through")
			}
		})
	}
	t.Run("stale allow-list entries", func(t *testing.T) {
		// The entry for a change that shipped, and the two entries above
		// that name another property or change type: none matched.
		stacks := synthesizedStacks("release")
		index := func(name string) int {
			return slices.IndexFunc(judgement.scenarios, func(sc guardScenario) bool { return sc.name == name })
		}
		assert.ElementsMatch(t, []string{
			fmt.Sprintf("scenario-%d/Cache: replace %s (EngineVersion) matches no change; remove the entry",
				index("an allow-list entry for a change that has already shipped"), idOfType(t, stacks, "Cache", "AWS::ElastiCache::ReplicationGroup")),
			fmt.Sprintf("scenario-%d/Database: replace %s (EngineVersion) matches no change; remove the entry",
				index("DatabaseName changed under an entry for EngineVersion"), idOfType(t, stacks, "Database", "AWS::RDS::DBInstance")),
			fmt.Sprintf("scenario-%d/Secrets: replace %s (Description) matches no change; remove the entry",
				index("key removed under an entry for a replacement"), idOfType(t, stacks, "Secrets", "AWS::KMS::Key")),
		}, stale)
	})
}

// handEditComparisons are a change that replaces the database with its
// golden rewritten by hand, in a scratch git repository: compared with the
// working tree ("handedit-working") and with the base revision
// ("handedit-base").
func handEditComparisons(t scratchT) []guard.Comparison {
	t.Helper()
	const env = "first-deploy"
	repo := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.email=ci@example.com", "-c", "user.name=ci"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "testdata", env), 0o755))
	for _, s := range synthesizedStacks(env) {
		raw, err := os.ReadFile(s.File)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(repo, "testdata", env, s.ID+".template.json"), raw, 0o644))
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	edit := func(res map[string]any) {
		propertiesOf(t, res, firstOfType(t, res, "AWS::RDS::DBInstance"))["DBInstanceIdentifier"] = "webapp-prod-2"
	}
	deployed := mutated(t, synthesizedStacks(env), "Database", edit)
	// The hand edit: the working tree's golden now says what is deployed.
	edited := mutated(t, reviewedStacks(t, repo, "", env), "Database", edit)
	raw, err := os.ReadFile(edited[slices.IndexFunc(edited, func(s guard.Stack) bool { return s.ID == "Database" })].File)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(repo, "testdata", env, "Database.template.json"), raw, 0o644))
	return []guard.Comparison{{Label: "handedit-working", Reviewed: reviewedStacks(t, repo, "", env), Deployed: deployed}, {Label: "handedit-base", Reviewed: reviewedStacks(t, repo, "HEAD", env), Deployed: deployed}}
}

// TestHandEditedGoldensDoNotFoolTheGuard: a change that replaces the
// database and rewrites its golden by hand passes the working-tree
// comparison, but not the comparison with the base revision, which CI and
// pull requests use.
func TestHandEditedGoldensDoNotFoolTheGuard(t *testing.T) {
	v := judged(t)
	require.True(t, judgement.ok, "the guard could not judge")
	assert.Empty(t, labelled(v.Violations, "handedit-working"), "the hand-edited golden hides the change from the working-tree comparison")
	require.Empty(t, judgement.handEditBroken, "the hand edit could not be made")
	base := labelled(v.Violations, "handedit-base")
	require.Len(t, base, 1)
	db := idOfType(t, synthesizedStacks("first-deploy"), "Database", "AWS::RDS::DBInstance")
	assert.Contains(t, base[0], "handedit-base/Database: replace AWS::RDS::DBInstance "+db+" (changed: DBInstanceIdentifier): it holds the database")
}
