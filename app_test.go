package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/internal/cdkcontext"
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
	cfg      config.Config
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

// variants are configurations the presets do not reach, synthesized once
// too: the gates (cdk-nag, validation, strict synth) cover them as well.
var variants = map[string]map[string]any{
	// Prod as deployed to a real account: an image from the repository (and
	// its pull permissions) on a pinned AMI, a certificate of that account
	// and real alarm e-mails, which the placeholders must not survive.
	"prod-image": {
		"env": "prod", "account": realAccount, "imageTag": "v1.0.0", "amiId": "ami-0123456789abcdef0",
		"certificateArn": "arn:aws:acm:eu-west-1:" + realAccount + ":certificate/11111111-2222-3333-4444-555555555555",
		"alarmEmails":    "oncall@acme.io,ops@acme.io",
		"availability-zones:account=" + realAccount + ":region=eu-west-1": []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
	},
	// Prod shipping with BLUE_GREEN (see variantFiles).
	"prod-bluegreen": {"env": "prod"},
}

// variantFiles change a variant's committed environment file the way a
// reviewed change would, for what -c cannot reach: prod-image also ships
// with a LINEAR rollout, prod-bluegreen with BLUE_GREEN.
var variantFiles = map[string]map[string]any{
	"prod-image":     {"Service": map[string]any{"Rollout": map[string]any{"Strategy": "LINEAR", "StepPercent": 20.0}}},
	"prod-bluegreen": {"Service": map[string]any{"Rollout": map[string]any{"Strategy": "BLUE_GREEN"}}},
}

// environmentsOf is the directory of environment files a configuration is
// synthesized from: the committed one, or a copy with the variant's
// changes.
func environmentsOf(name, tmp string) (string, error) {
	overlay, ok := variantFiles[name]
	if !ok {
		return config.Dir, nil
	}
	dir := filepath.Join(tmp, name+"-environments")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	files, err := filepath.Glob(filepath.Join(config.Dir, "*.json"))
	if err != nil {
		return "", err
	}
	env, _ := variants[name]["env"].(string)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if filepath.Base(f) == env+".json" {
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				return "", err
			}
			if raw, err = json.Marshal(deepMerge(doc, overlay)); err != nil {
				return "", err
			}
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), raw, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// deepMerge sets b's values on a, object by object.
func deepMerge(a, b map[string]any) map[string]any {
	out := merge(a, nil)
	for k, v := range b {
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

// realAccount stands for an account a deploy reaches: not one of the
// presets' placeholder accounts.
const realAccount = "123456789012"

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
	ctx, err := cdkcontext.Read(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "platform-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	configs := map[string]map[string]any{}
	for _, name := range config.Names() {
		configs[name] = map[string]any{"env": name}
	}
	for name, extra := range variants {
		configs[name] = extra
	}
	for name, extra := range configs {
		dir, err := environmentsOf(name, tmp)
		if err != nil {
			fmt.Fprintf(os.Stderr, "environment files of %s: %v\n", name, err)
			return 1
		}
		s, err := synthesize(merge(ctx, extra), filepath.Join(tmp, name), dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "synthesize %s: %v\n", name, err)
			return 1
		}
		envs[name] = s
	}
	// cfn-lint checks what is deployed: every template of every
	// environment (the variants differ from prod only in what the
	// template tests assert).
	dirs, regions := map[string]string{}, []string{}
	for _, name := range config.Names() {
		s := envs[name]
		dirs[name] = s.outdir
		if !slices.Contains(regions, s.cfg.Region) {
			regions = append(regions, s.cfg.Region)
		}
	}
	startCfnLint(dirs, regions)
	// The temporary assemblies go when run returns; the linter must be done.
	defer func() { <-cfnLint.done }()
	return m.Run()
}

// synthesized returns the names of every synthesized configuration, sorted.
func synthesized() []string { return sortedKeys(envs) }

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

func synthesize(ctx map[string]any, outdir, dir string) (s *synthesis, err error) {
	synthCount++
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	// The same path as the CLI: context in, validated config, platform.
	platform, err := build(app, dir)
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
	for _, env := range config.Names() {
		s := envs[env]
		for _, stack := range s.platform.Stacks() {
			id := *stack.ArtifactId()
			assert.Regexp(t, fmt.Sprintf("^webapp-%s-[a-z]+$", env), *stack.StackName(), "%s/%s: stack name", env, id)
			assert.Equal(t, "eu-west-1", *stack.Region(), "%s/%s: region", env, id)
			assert.Equal(t, env == "prod", *stack.TerminationProtection(), "%s/%s: termination protection", env, id)
		}
	}
}

func TestEveryTaggableResourceCarriesThePlatformTags(t *testing.T) {
	for _, env := range config.Names() {
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
					want := map[string]string{"Application": "webapp", "Environment": env, "ManagedBy": "aws-cdk"}
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

// TestInvalidConfigurationBuildsNothing runs the app's own entry path with a
// bad context: it must report every problem and create no construct, so
// `cdk synth` exits non-zero before anything is synthesized.
func TestInvalidConfigurationBuildsNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		ctx  map[string]any
		want []string
	}{
		{"unknown environment", map[string]any{"env": "staging"}, []string{`env: got "staging", want one of dev, prod`}},
		{"bad overrides", map[string]any{"env": "prod", "account": "42", "imageTag": "latest"}, []string{`Account: got "42"`, `Service.ImageTag: got "latest"`}},
		{"prod in a real account keeping the placeholders", map[string]any{"env": "prod", "account": realAccount}, []string{
			`LoadBalancer.CertificateArn: got "arn:aws:acm:eu-west-1:222222222222:certificate/00000000-0000-0000-0000-000000000000", want a certificate of the stacks' account 123456789012 (set it in environments/prod.json, or -c certificateArn=ARN once)`,
			`Monitoring.AlarmEmails[0]: got "oncall@example.com", want a real address`,
		}},
		{"prod in a real account with an empty certificate", map[string]any{"env": "prod", "account": realAccount, "certificateArn": "", "alarmEmails": "oncall@acme.io"}, []string{
			"LoadBalancer.CertificateArn: got", "or -c certificateArn=ARN once)",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Context: &tt.ctx})
			p, err := build(app, config.Dir)
			require.Error(t, err)
			assert.Nil(t, p, "no platform from an invalid configuration")
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.Empty(t, *app.Node().Children(), "constructs created before validation failed")
		})
	}
}
