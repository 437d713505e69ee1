package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/lib"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden templates under testdata/ from the current synthesis")

// synthesis is one environment synthesized once per test binary; every test
// reads from it instead of synthesizing again.
type synthesis struct {
	cfg config.Config
	// repo is the committed state it was synthesized from.
	repo     config.Repository
	platform *lib.Platform
	outdir   string
	// synthErr is what app.Synth panicked with, if anything (the built-in
	// validator fails synthesis on findings).
	synthErr any
	// templates holds each stack's template, parsed, keyed by stack ID.
	templates map[string]map[string]any
	// assertions holds a lazily created assertions.Template per stack ID.
	assertions map[string]assertions.Template
	// metadata holds the entries of every stack's metadata file and flows
	// the security-group rules of every template, each read on first use.
	metadata []metadataEntry
	flows    []string
}

var (
	// envs holds every synthesized configuration: each environment by its
	// name, plus the variants below.
	envs       = map[string]*synthesis{}
	synthCount int
)

// runAsApp makes the test binary behave as the app itself (main), so the
// CLI tests can run the real entry point without linking a second binary.
const runAsApp = "PLATFORM_TEST_RUN_AS_APP"

// realAccount stands for an account a deploy reaches: not one of the
// presets' placeholder accounts.
const realAccount = "123456789012"

// variant is a configuration the committed environments may not reach,
// synthesized once too: the fixture's environment (testdata/fixture, the
// repository as it first ships) with the README's runbooks applied the way
// a commit applies them. Its values are known, so tests may assert them;
// and every check that holds for any committed state runs on it too, which
// proves the runbooks keep `make test` green.
type variant struct {
	name, env string
	// edits change the environment's file one after another; a nil value
	// removes a key.
	edits []map[string]any
	// zones are recorded in cdk.context.json for realAccount, as the
	// first-deploy runbook says.
	zones []string
}

var (
	// firstRealDeploy is the first-deploy runbook: a real account, a
	// certificate of that account and region, real alarm addresses (and
	// the account's zones in cdk.context.json).
	firstRealDeploy = map[string]any{
		"Account":      realAccount,
		"LoadBalancer": map[string]any{"CertificateArn": "arn:aws:acm:eu-west-1:" + realAccount + ":certificate/11111111-2222-3333-4444-555555555555"},
		"Monitoring":   map[string]any{"AlarmEmails": []any{"oncall@acme.io", "ops@acme.io"}},
	}
	// release is the release runbook: the tag to run, and no placeholder
	// any more.
	release = map[string]any{"Service": map[string]any{"ImageTag": "v1.0.0", "AllowPlaceholderImage": nil}}
)

// variants are prod as first deployed to a real account, shipping with a
// BLUE_GREEN rollout; and its first release on top, shipping with a LINEAR
// rollout on a pinned AMI. With the committed prod's CANARY and dev's
// ROLLING, every strategy is synthesized.
var variants = []variant{
	{name: "first-deploy", env: "prod", zones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}, edits: []map[string]any{
		firstRealDeploy,
		{"Service": map[string]any{"Rollout": map[string]any{"Strategy": "BLUE_GREEN"}}},
	}},
	{name: "release", env: "prod", zones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}, edits: []map[string]any{
		firstRealDeploy,
		{"Service": map[string]any{"Rollout": map[string]any{"Strategy": "BLUE_GREEN"}}},
		release,
		{"Service": map[string]any{"Rollout": map[string]any{"Strategy": "LINEAR", "StepPercent": 20.0}}, "Cluster": map[string]any{"AmiID": "ami-0123456789abcdef0"}},
	}},
}

// fixtureRoot is the repository as it first ships.
var fixtureRoot = filepath.Join("testdata", "fixture")

// fixtureRepository is the fixture's committed state: its environment
// files and lookups with the repository's own cdk.json.
func fixtureRepository(committed config.Repository) (config.Repository, error) {
	raw, err := os.ReadFile(filepath.Join(fixtureRoot, "cdk.context.json"))
	if err != nil {
		return config.Repository{}, err
	}
	repo := committed
	repo.Dir = filepath.Join(fixtureRoot, config.Dir)
	repo.Lookups = nil
	return repo, json.Unmarshal(raw, &repo.Lookups)
}

// repositoryOf writes the variant's committed state under tmp: the
// fixture's environment files with the edits applied to the variant's
// file, and its lookups.
func repositoryOf(v variant, fixture config.Repository, tmp string) (config.Repository, error) {
	repo := fixture
	repo.Dir = filepath.Join(tmp, v.name+"-environments")
	if err := os.MkdirAll(repo.Dir, 0o755); err != nil {
		return repo, err
	}
	files, err := filepath.Glob(filepath.Join(fixture.Dir, "*.json"))
	if err != nil {
		return repo, err
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return repo, err
		}
		if filepath.Base(f) == v.env+".json" {
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				return repo, err
			}
			for _, e := range v.edits {
				doc = deepMerge(doc, e)
			}
			if raw, err = json.MarshalIndent(doc, "", "  "); err != nil {
				return repo, err
			}
		}
		if err := os.WriteFile(filepath.Join(repo.Dir, filepath.Base(f)), raw, 0o644); err != nil {
			return repo, err
		}
	}
	repo.Lookups = merge(fixture.Lookups, nil)
	if len(v.zones) > 0 {
		zones := make([]any, len(v.zones))
		for i, z := range v.zones {
			zones[i] = z
		}
		repo.Lookups[config.ZonesKey(realAccount, "eu-west-1")] = zones
	}
	return repo, nil
}

// deepMerge sets b's values on a, object by object; a nil value removes
// the key.
func deepMerge(a, b map[string]any) map[string]any {
	out := merge(a, nil)
	for k, v := range b {
		if v == nil {
			delete(out, k)
			continue
		}
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = deepMerge(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func TestMain(m *testing.M) {
	if os.Getenv(runAsApp) != "" {
		main()
		os.Exit(0)
	}
	flag.Parse()
	code := run(m)
	jsii.Close()
	os.Exit(code)
}

func run(m *testing.M) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
		return 1
	}
	committed, err := config.ReadRepository(".")
	if err != nil {
		return fail("%v", err)
	}
	fixture, err := fixtureRepository(committed)
	if err != nil {
		return fail("fixture: %v", err)
	}
	tmp, err := os.MkdirTemp("", "platform-test-")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(tmp)
	type configuration struct {
		env  string
		repo config.Repository
	}
	configs := map[string]configuration{}
	for _, name := range config.Names() {
		configs[name] = configuration{name, committed}
	}
	for _, v := range variants {
		repo, err := repositoryOf(v, fixture, tmp)
		if err != nil {
			return fail("variant %s: %v", v.name, err)
		}
		configs[v.name] = configuration{v.env, repo}
	}
	synth := func(name string) error {
		c := configs[name]
		ctx := merge(merge(c.repo.Settings, c.repo.Lookups), map[string]any{"env": c.env})
		s, err := synthesize(ctx, filepath.Join(tmp, name), c.repo)
		if err != nil {
			return fmt.Errorf("synthesize %s: %w", name, err)
		}
		s.repo = c.repo
		envs[name] = s
		return nil
	}
	// The environments first: cfn-lint checks what is deployed, every
	// template of every environment (the variants differ from prod only in
	// what the template tests assert), and starts on them while the
	// variants synthesize.
	dirs, regions := map[string]string{}, []string{}
	for _, name := range config.Names() {
		if err := synth(name); err != nil {
			return fail("%v", err)
		}
		dirs[name] = envs[name].outdir
		if !slices.Contains(regions, envs[name].cfg.Region) {
			regions = append(regions, envs[name].cfg.Region)
		}
	}
	startCfnLint(dirs, regions)
	startAWSLists()
	// The temporary assemblies go when run returns; the linter must be done.
	defer func() { <-cfnLint.done; <-awsLists.done }()
	for _, v := range variants {
		if err := synth(v.name); err != nil {
			return fail("%v", err)
		}
	}
	return m.Run()
}

// synthesized returns the names of every synthesized configuration, sorted.
func synthesized() []string { return sortedKeys(envs) }

// configsOf returns the synthesized configurations of one environment: as
// committed, and as the runbook variants leave it.
func configsOf(environment string) []string {
	var out []string
	for _, name := range synthesized() {
		if envs[name].cfg.Environment == environment {
			out = append(out, name)
		}
	}
	return out
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func synthesize(ctx map[string]any, outdir string, repo config.Repository) (s *synthesis, err error) {
	synthCount++
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	// The same path as the CLI: context in, validated config, platform.
	platform, err := build(app, repo)
	if err != nil {
		return nil, err
	}
	s = &synthesis{cfg: platform.Config, platform: platform, outdir: outdir, templates: map[string]map[string]any{}, assertions: map[string]assertions.Template{}}
	func() {
		defer func() { s.synthErr = recover() }()
		app.Synth(nil)
	}()
	for _, stack := range s.platform.Stacks() {
		id := *stack.ArtifactId()
		raw, err := os.ReadFile(filepath.Join(outdir, id+".template.json"))
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w (synthesis error: %v)", id, err, s.synthErr)
		}
		var tpl map[string]any
		if err := json.Unmarshal(raw, &tpl); err != nil {
			return nil, err
		}
		s.templates[id] = tpl
	}
	return s, nil
}

// template returns the assertions.Template of one stack of one environment.
func template(t *testing.T, env, stack string) assertions.Template {
	t.Helper()
	s := envs[env]
	if tpl, ok := s.assertions[stack]; ok {
		return tpl
	}
	raw, ok := s.templates[stack]
	require.True(t, ok, "environment %s has no stack %q", env, stack)
	tpl := assertions.Template_FromJSON(&map[string]any{"Resources": raw["Resources"], "Outputs": raw["Outputs"]}, nil)
	s.assertions[stack] = tpl
	return tpl
}

// check runs one assertions.Template assertion and turns its panic into a
// test error that names the scenario.
func check(t *testing.T, name string, assertion func()) {
	t.Helper()
	assert.NotPanics(t, assertion, name)
}

// templateCheck is one fine-grained assertion on one stack, per environment.
type templateCheck struct {
	name string
	// assert checks tpl with assertions.Template (which panics on a
	// mismatch; check turns that into a failure) or with testify.
	assert func(t *testing.T, tpl assertions.Template, cfg config.Config)
}

func runChecks(t *testing.T, stack string, checks []templateCheck) {
	t.Helper()
	for _, env := range config.Names() {
		tpl := template(t, env, stack)
		cfg := envs[env].cfg
		for _, c := range checks {
			t.Run(env+"/"+c.name, func(t *testing.T) {
				check(t, c.name, func() { c.assert(t, tpl, cfg) })
			})
		}
	}
}

func count(n int) *float64 { return jsii.Number(float64(n)) }

func re(s string) assertions.Matcher { return assertions.Match_StringLikeRegexp(jsii.String(s)) }

// policyFor is the DeletionPolicy or UpdateReplacePolicy a resource kept by
// RetainData gets in cfg's environment.
func policyFor(cfg config.Config, kept string) string {
	if cfg.RetainData {
		return kept
	}
	return "Delete"
}

func TestEachEnvironmentIsSynthesizedOnce(t *testing.T) {
	assert.Equal(t, len(config.Names())+len(variants), synthCount, "synthesized once per environment (%d) and variant (%d)", len(config.Names()), len(variants))
}

func TestEveryEnvironmentSynthesizes(t *testing.T) {
	for _, env := range synthesized() {
		assert.Nil(t, envs[env].synthErr, "%s: synthesis failed", env)
	}
}

func TestStacksAreNamedAndBoundPerEnvironment(t *testing.T) {
	for _, env := range synthesized() {
		s := envs[env]
		for _, stack := range s.platform.Stacks() {
			id := *stack.ArtifactId()
			assert.Regexp(t, fmt.Sprintf("^%s-%s-[a-z]+$", s.cfg.AppName, s.cfg.Environment), *stack.StackName(), "%s/%s: stack name", env, id)
			assert.Equal(t, s.cfg.Account, *stack.Account(), "%s/%s: account", env, id)
			assert.Equal(t, s.cfg.Region, *stack.Region(), "%s/%s: region", env, id)
			assert.Equal(t, s.cfg.TerminationProtection, *stack.TerminationProtection(), "%s/%s: termination protection", env, id)
		}
	}
}

func TestEveryTaggableResourceCarriesThePlatformTags(t *testing.T) {
	for _, env := range config.Names() {
		cfg := envs[env].cfg
		for stack, tpl := range envs[env].templates {
			for _, typ := range []string{"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::SecurityGroup", "AWS::EC2::NatGateway", "AWS::Logs::LogGroup"} {
				for id, r := range cfn.Resources(tpl, typ) {
					tags := map[string]string{}
					props, _ := r["Properties"].(map[string]any)
					list, _ := props["Tags"].([]any)
					for _, tag := range list {
						kv := tag.(map[string]any)
						tags[fmt.Sprint(kv["Key"])] = fmt.Sprint(kv["Value"])
					}
					want := map[string]string{"Application": cfg.AppName, "Environment": cfg.Environment, "ManagedBy": "aws-cdk"}
					for k, v := range want {
						assert.Equal(t, v, tags[k], "%s/%s/%s: tag %s", env, stack, id, k)
					}
				}
			}
		}
	}
}

// TestStackDependenciesPointBackwards proves the layering: every stack
// depends only on stacks earlier in deployment order, so the graph is
// one-way and has no cycle. It also pins what each layer consumes.
func TestStackDependenciesPointBackwards(t *testing.T) {
	want := map[string][]string{
		"Network":      nil,
		"Secrets":      nil,
		"Registry":     nil,
		"Database":     {"Network", "Secrets"},
		"Cache":        {"Network", "Secrets"},
		"Cluster":      {"Network"},
		"LoadBalancer": {"Network"},
		"Alerts":       nil,
		"Service":      {"Alerts", "Cache", "Cluster", "Database", "LoadBalancer", "Network", "Registry", "Secrets"},
		"Monitoring":   {"Alerts", "Cache", "Cluster", "Database", "LoadBalancer", "Service"},
	}
	for _, env := range config.Names() {
		seen := map[string]bool{}
		for _, stack := range envs[env].platform.Stacks() {
			id := *stack.ArtifactId()
			var deps []string
			for _, d := range *stack.Dependencies() {
				dep := *d.ArtifactId()
				deps = append(deps, dep)
				assert.True(t, seen[dep], "%s: %s depends on %s, which is not deployed before it", env, id, dep)
			}
			sort.Strings(deps)
			assert.Equal(t, want[id], deps, "%s: what %s depends on", env, id)
			seen[id] = true
		}
		assert.Len(t, seen, len(want), "%s: stacks", env)
	}
}

// TestInvalidConfigurationBuildsNothing runs the app's own entry path on the
// fixture with a bad context: it must report every problem and create no
// construct, so `cdk synth` exits non-zero before anything is synthesized.
func TestInvalidConfigurationBuildsNothing(t *testing.T) {
	committed, err := config.ReadRepository(".")
	require.NoError(t, err)
	fixture, err := fixtureRepository(committed)
	require.NoError(t, err)
	prodFile := filepath.Join(fixture.Dir, "prod.json")
	for _, tt := range []struct {
		name string
		ctx  map[string]any
		want []string
	}{
		{"unknown environment", map[string]any{"env": "staging"}, []string{`env: got "staging", want one of dev, prod`}},
		{"bad overrides", map[string]any{"env": "prod", "account": "42", "imageTag": "latest"}, []string{`-c account (Account): got "42"`, `-c imageTag (Service.ImageTag): got "latest"`}},
		{"prod in a real account keeping the placeholders", map[string]any{"env": "prod", "account": realAccount}, []string{
			prodFile + `: LoadBalancer.CertificateArn: got "arn:aws:acm:eu-west-1:222222222222:certificate/00000000-0000-0000-0000-000000000000", want a certificate of the stacks' account 123456789012`,
			prodFile + `: Monitoring.AlarmEmails[0]: got "oncall@example.com", want a real address`,
			"cdk.context.json records no availability zones for account 123456789012 in eu-west-1",
		}},
		{"a feature flag on the command line", map[string]any{"env": "prod", "@aws-cdk/core:defaultCrossStackReferences": "weak"}, []string{
			"-c @aws-cdk/core:defaultCrossStackReferences: got \"weak\", but cdk.json commits \"strong\""}},
		{"a zone the region does not have", map[string]any{"env": "dev"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			repo := fixture
			if tt.want == nil {
				// A zone outside the region once panicked deep in the CDK.
				dir := t.TempDir()
				require.NoError(t, os.WriteFile(filepath.Join(dir, "dev.json"), []byte(`{"Account": "111111111111", "AvailabilityZones": ["eu-west-1a", "eu-west-1d"], "Service": {"AllowPlaceholderImage": true}}`), 0o644))
				repo.Dir = dir
				tt.want = []string{`dev.json: AvailabilityZones[1]: got "eu-west-1d", want one of the zones cdk.context.json records for account 111111111111 in eu-west-1`}
			}
			ctx := merge(merge(repo.Settings, repo.Lookups), tt.ctx)
			app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
			p, err := build(app, repo)
			require.Error(t, err)
			assert.Nil(t, p, "no platform from an invalid configuration")
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.Empty(t, *app.Node().Children(), "constructs created before validation failed")
		})
	}
}

// TestRunbooksKeepTheSuiteGreen is the contract between the README's
// runbooks and this suite. Every check over the committed environments
// holds for any valid committed state, and runs over the runbook variants
// too (validation, cdk-nag, the validator, readiness, the network policy,
// protection and closed egress); what remains is that `make update-golden`
// accepts each runbook's change, which needs the replacement guard to pass:
// the first real deploy against the prod the repository ships, and a
// release against the first deploy. (RUNBOOK_REPLAY=1 replays both on a
// scratch copy of the repository with the whole suite; see
// TestRunbookReplay.)
func TestRunbooksKeepTheSuiteGreen(t *testing.T) {
	v := runbookVerdict(t)
	assert.Empty(t, v.Violations, "make update-golden would refuse a runbook's change")
	for _, a := range v.Allowed {
		t.Log("passes: " + a)
	}
}

// runbookComparisons are the runbooks' changes as the guard judges them: a
// release against the first deploy, and the first deploy against prod as
// committed while that is still the prod the repository ships (after it,
// the guard scenarios cover a real account replacing the placeholder).
func runbookComparisons(t *testing.T) []comparison {
	t.Helper()
	committed, err := config.ReadRepository(".")
	require.NoError(t, err)
	fixture, err := fixtureRepository(committed)
	require.NoError(t, err)
	shipped, err := config.Load(fixture, "prod", config.Overrides{})
	require.NoError(t, err)
	cs := []comparison{{"release", after("first-deploy"), after("release")}}
	if reflect.DeepEqual(shipped, envs["prod"].cfg) {
		cs = append(cs, comparison{"first-deploy", after("prod"), after("first-deploy")})
	}
	return cs
}

// TestRunbookReplay replays the README's runbooks on a scratch copy of the
// repository, as a user would on a fresh clone: each edits the committed
// prod file (and cdk.context.json), runs `make update-golden` and then the
// whole suite, which must pass without any edit of test code. It takes
// minutes, so it runs with RUNBOOK_REPLAY=1 (`make runbooks`);
// TestRunbooksKeepTheSuiteGreen checks the same in every run from the
// variants.
func TestRunbookReplay(t *testing.T) {
	if os.Getenv("RUNBOOK_REPLAY") == "" {
		t.Skip("set RUNBOOK_REPLAY=1 (make runbooks) to replay the runbooks with the whole suite on a scratch copy; it takes minutes")
	}
	committed := envs["prod"].cfg
	tag := "v1.0.0"
	if committed.Service.ImageTag == tag {
		tag = "v1.0.1"
	}
	for _, rb := range []struct {
		name  string
		edits []map[string]any
		zones bool
	}{
		{"release", []map[string]any{{"Service": map[string]any{"ImageTag": tag, "AllowPlaceholderImage": nil}}}, false},
		{"first real deploy", []map[string]any{firstRealDeploy}, true},
	} {
		t.Run(rb.name, func(t *testing.T) {
			if rb.zones && committed.RealAccount() {
				t.Skipf("prod is already deployed to account %s", committed.Account)
			}
			dir := scratchCopy(t)
			editJSON(t, filepath.Join(dir, config.Dir, "prod.json"), rb.edits...)
			if rb.zones {
				editJSON(t, filepath.Join(dir, "cdk.context.json"), map[string]any{
					config.ZonesKey(realAccount, committed.Region): []any{committed.Region + "a", committed.Region + "b", committed.Region + "c"},
				})
			}
			for _, step := range [][]string{{"make", "-s", "update-golden"}, {"make", "-s", "test"}} {
				cmd := exec.Command(step[0], step[1:]...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "GUARD_BASE=", "RUNBOOK_REPLAY=")
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "%s after the %s runbook:\n%s", strings.Join(step, " "), rb.name, out)
			}
		})
	}
}

// scratchCopy copies the repository's files (as a clone has them, with
// this working tree's changes and their modification times, so make sees
// what it saw here) and the installed node_modules into a new git
// repository in a temporary directory.
func scratchCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	require.NoError(t, err, "git ls-files")
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		info, err := os.Stat(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree
		}
		require.NoError(t, err)
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		dst := filepath.Join(dir, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		require.NoError(t, os.WriteFile(dst, raw, info.Mode().Perm()))
		require.NoError(t, os.Chtimes(dst, info.ModTime(), info.ModTime()))
	}
	// A copy, not a link: make in the copy must never reinstall this
	// checkout's node_modules.
	cp, err := exec.Command("cp", "-a", "node_modules", dir).CombinedOutput()
	require.NoError(t, err, "cp -a node_modules: %s", cp)
	// A clone is a git repository (actionlint finds the workflows by it).
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "scratch copy"}} {
		cmd := exec.Command("git", append([]string{"-c", "user.email=ci@example.com", "-c", "user.name=ci"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	return dir
}

// editJSON applies edits to the JSON object in path, as a commit would.
func editJSON(t *testing.T, path string, edits ...map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc), path)
	for _, e := range edits {
		doc = deepMerge(doc, e)
	}
	raw, err = json.MarshalIndent(doc, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(raw, '\n'), 0o644))
}
