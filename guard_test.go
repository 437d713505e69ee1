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
		out[*s.ArtifactId()] = guard.Identity{StackName: *s.StackName(), Account: *s.Account(), Region: *s.Region()}
	}
	return out
}

// reviewedStacks is the reviewed state of env: its golden templates and
// the identities recorded beside them, in the working tree of repo or, with
// a base, as committed there.
func reviewedStacks(t *testing.T, repo, base, env string) []guard.Stack {
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
func guardBase() string { return os.Getenv("GUARD_BASE") }

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
		cs = append(cs, handEditComparisons(t)...)
		review, err := diffEngine(t).Review(cs, guard.Options{Guarded: guardedTypes(t), Allow: allow, CheckStale: true, PlaceholderAccounts: config.PlaceholderAccounts})
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
	v.Violations, v.Allowed = pick(all.Violations), pick(all.Allowed)
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
	v := currentVerdict(t)
	for _, a := range v.Allowed {
		t.Log("passes: " + a)
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

// mutated returns states with the resources of stack id copied and
// changed by fn.
func mutated(t *testing.T, states []guard.Stack, id string, fn func(res map[string]any)) []guard.Stack {
	t.Helper()
	return mutatedTemplate(t, states, id, func(tpl map[string]any) { fn(cfn.Object(at(t, tpl, "Resources"))) })
}

// mutatedTemplate returns states with the template of stack id copied and
// changed by fn.
func mutatedTemplate(t *testing.T, states []guard.Stack, id string, fn func(tpl map[string]any)) []guard.Stack {
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

// inAccount returns states bound to another account.
func inAccount(states []guard.Stack, account string) []guard.Stack {
	out := slices.Clone(states)
	for i := range out {
		out[i].Identity.Account = account
	}
	return out
}

// withoutExport returns states with the outputs of stack id whose export
// name contains part removed.
func withoutExport(t *testing.T, states []guard.Stack, id, part string) []guard.Stack {
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

// renamed returns states with stack id under another stack name.
func renamed(states []guard.Stack, id, name string) []guard.Stack {
	out := slices.Clone(states)
	for i := range out {
		if out[i].ID == id {
			out[i].Identity.StackName = name
		}
	}
	return out
}

func propertiesOf(res map[string]any, id string) map[string]any {
	return cfn.Props(cfn.Object(res[id]))
}

// firstOfType is the logical ID of the first resource of typ.
func firstOfType(t *testing.T, res map[string]any, typ string) string {
	t.Helper()
	ids := cfn.IDs(cfn.Template{"Resources": res}, typ)
	require.NotEmpty(t, ids, "no resource %s", typ)
	return ids[0]
}

// guardScenario is a realistic change as a reviewer would make it, with
// what the guard must say about it.
type guardScenario struct {
	name          string
	before, after []guard.Stack
	allow         []guard.Entry
	// want are substrings of one violation each; none means it passes.
	want []string
}

// guardScenarios are the changes TestReplacementGuardCatches feeds the
// guard, on known values whatever is committed: the fixture's prod as
// first deployed, before and after each scenario's edit.
func guardScenarios(t *testing.T) []guardScenario {
	t.Helper()
	const env = "first-deploy"
	golden, current := synthesizedStacks(env), synthesizedStacks(env)
	db := pinnedID(t, "Database", "AWS::RDS::DBInstance")
	cache := pinnedID(t, "Cache", "AWS::ElastiCache::ReplicationGroup")
	key := pinnedID(t, "Secrets", "AWS::KMS::Key")
	change := func(stack string, fn func(res map[string]any)) []guard.Stack { return mutated(t, golden, stack, fn) }
	return []guardScenario{
		{"registry stack renamed", golden, renamed(current, "Registry", "webapp-prod-ecr"), nil, []string{
			"Registry: orphan AWS::ECR::Repository " + pinnedID(t, "Registry", "AWS::ECR::Repository") + " because stack webapp-prod-registry (account 123456789012, eu-west-1) is renamed or moved to webapp-prod-ecr"}},
		{"network stack renamed", golden, renamed(current, "Network", "webapp-prod-net"), nil, []string{
			"Network: destroy AWS::EC2::VPC", "because stack webapp-prod-network (account 123456789012, eu-west-1) is renamed", "imports it, so CloudFormation will refuse the deploy"}},
		{"alerts stack renamed", golden, renamed(current, "Alerts", "webapp-prod-alarms"), nil, []string{
			"Alerts: orphan AWS::KMS::Key", "Alerts: destroy AWS::SNS::Topic", "its ARN is what on-call tools subscribe to"}},
		{"VPC CIDR changed", change("Network", func(res map[string]any) {
			propertiesOf(res, firstOfType(t, res, "AWS::EC2::VPC"))["CidrBlock"] = "10.99.0.0/16"
		}), current, nil, []string{"Network: replace AWS::EC2::VPC", "(changed: CidrBlock): LoadBalancer imports it, so CloudFormation will refuse the deploy",
			"Network: replace AWS::EC2::Subnet VpcPrivateSubnet1Subnet", "(changed: VpcId): Cache, Cluster, Database, Service imports it"}},
		{"security group description changed", change("Network", func(res map[string]any) {
			propertiesOf(res, firstOfType(t, res, "AWS::EC2::SecurityGroup"))["GroupDescription"] = "renamed"
		}), current, nil, []string{"Network: replace AWS::EC2::SecurityGroup", "(changed: GroupDescription)", "imports it, so CloudFormation will refuse the deploy"}},
		{"DatabaseName changed under an entry for EngineVersion", change("Database", func(res map[string]any) { propertiesOf(res, db)["DBName"] = "shop" }), current,
			[]guard.Entry{{Env: "dev", Stack: "Database", LogicalID: db, Change: guard.Replace, Properties: []string{"EngineVersion"}, Reason: "the major upgrade this entry was written for"}},
			[]string{"Database: replace AWS::RDS::DBInstance " + db + " (changed: DBName): it holds the database"}},
		{"load balancer construct renamed", change("LoadBalancer", func(res map[string]any) {
			id := firstOfType(t, res, "AWS::ElasticLoadBalancingV2::LoadBalancer")
			res["OldLoadBalancer"] = res[id]
			delete(res, id)
		}), current, nil, []string{"LoadBalancer: destroy AWS::ElasticLoadBalancingV2::LoadBalancer OldLoadBalancer", "its DNS name is what users and DNS records point at"}},
		{"database identifier changed", change("Database", func(res map[string]any) { propertiesOf(res, db)["DBInstanceIdentifier"] = "webapp-prod-2" }), current, nil,
			[]string{"Database: replace AWS::RDS::DBInstance " + db + " (changed: DBInstanceIdentifier)"}},
		{"database engine changed, allowed exactly", change("Database", func(res map[string]any) { propertiesOf(res, db)["Engine"] = "mysql" }), current,
			[]guard.Entry{{Env: "dev", Stack: "Database", LogicalID: db, Change: guard.Replace, Properties: []string{"Engine"}, Reason: "an engine change this test intends"}}, nil},
		{"cache encryption at rest changed", change("Cache", func(res map[string]any) { propertiesOf(res, cache)["AtRestEncryptionEnabled"] = false }), current, nil,
			[]string{"Cache: replace AWS::ElastiCache::ReplicationGroup " + cache + " (changed: AtRestEncryptionEnabled)"}},
		{"key removed under an entry for a replacement", golden, mutated(t, current, "Secrets", func(res map[string]any) { delete(res, key) }),
			[]guard.Entry{{Env: "dev", Stack: "Secrets", LogicalID: key, Change: guard.Replace, Properties: []string{"Description"}, Reason: "an entry for another change type"}},
			[]string{"Secrets: orphan AWS::KMS::Key " + key + ": data encrypted with it can only be read with it"}},
		{"real account committed in place of the placeholder", inAccount(golden, config.PlaceholderAccounts[1]), current, nil, nil},
		{"export removed while another stack imports it", golden, withoutExport(t, current, "Network", "ExportsOutputRefVpc"), nil, []string{
			"/Network: export webapp-prod-network:ExportsOutputRefVpc", "is removed while LoadBalancer import it in the deployed stacks, so CloudFormation will refuse the deploy"}},
		{"benign: instance class", change("Database", func(res map[string]any) { propertiesOf(res, db)["DBInstanceClass"] = "db.m7g.xlarge" }), current, nil, nil},
		{"benign: cache node type", change("Cache", func(res map[string]any) { propertiesOf(res, cache)["CacheNodeType"] = "cache.r7g.xlarge" }), current, nil, nil},
		{"benign: alarm threshold", change("Monitoring", func(res map[string]any) {
			propertiesOf(res, firstOfType(t, res, "AWS::CloudWatch::Alarm"))["Threshold"] = 99.0
		}), current, nil, nil},
		{"an allow-list entry for a change that has already shipped", golden, current,
			[]guard.Entry{{Stack: "Cache", LogicalID: cache, Change: guard.Replace, Properties: []string{"EngineVersion"}, Reason: "an upgrade that has already shipped"}}, nil},
	}
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
		t.Run(sc.name, func(t *testing.T) {
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
		db := pinnedID(t, "Database", "AWS::RDS::DBInstance")
		cache := pinnedID(t, "Cache", "AWS::ElastiCache::ReplicationGroup")
		key := pinnedID(t, "Secrets", "AWS::KMS::Key")
		assert.ElementsMatch(t, []string{
			fmt.Sprintf("scenario-%d/Cache: replace %s (EngineVersion) matches no change; remove the entry", len(judgement.scenarios)-1, cache),
			"scenario-5/Database: replace " + db + " (EngineVersion) matches no change; remove the entry",
			"scenario-10/Secrets: replace " + key + " (Description) matches no change; remove the entry",
		}, stale)
	})
}

// handEditComparisons are a change that replaces the database with its
// golden rewritten by hand, in a scratch git repository: compared with the
// working tree ("handedit-working") and with the base revision
// ("handedit-base").
func handEditComparisons(t *testing.T) []guard.Comparison {
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
	db := pinnedID(t, "Database", "AWS::RDS::DBInstance")
	edit := func(res map[string]any) { propertiesOf(res, db)["DBInstanceIdentifier"] = "webapp-prod-2" }
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
	base := labelled(v.Violations, "handedit-base")
	require.Len(t, base, 1)
	db := pinnedID(t, "Database", "AWS::RDS::DBInstance")
	assert.Contains(t, base[0], "handedit-base/Database: replace AWS::RDS::DBInstance "+db+" (changed: DBInstanceIdentifier): it holds the database")
}
