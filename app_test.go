package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib"
	"github.com/example/platform/lib/config"
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
}

var (
	// envs holds every synthesized configuration: each environment by its
	// name, plus the variants below.
	envs       = map[string]*synthesis{}
	synthCount int
)

// appBinary is the app built once per test binary for the tests that run
// it through the CLI.
var appBinary struct {
	path string
	done chan struct{}
	out  []byte
	err  error
}

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
}

// realAccount stands for an account a deploy reaches: not one of the
// presets' placeholder accounts.
const realAccount = "123456789012"

func TestMain(m *testing.M) {
	flag.Parse()
	code := run(m)
	jsii.Close()
	os.Exit(code)
}

func run(m *testing.M) int {
	ctx, err := appContext()
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
	// The CLI test needs the app as a binary; linking it overlaps with the
	// synthesis below instead of adding to the suite's time.
	appBinary.path = filepath.Join(tmp, "platform")
	appBinary.done = make(chan struct{})
	go func() {
		defer close(appBinary.done)
		appBinary.out, appBinary.err = exec.Command("go", "build", "-o", appBinary.path, ".").CombinedOutput()
	}()
	defer func() { <-appBinary.done }()
	configs := map[string]map[string]any{}
	for _, name := range config.Names() {
		configs[name] = map[string]any{"env": name}
	}
	for name, extra := range variants {
		configs[name] = extra
	}
	for name, extra := range configs {
		s, err := synthesize(merge(ctx, extra), filepath.Join(tmp, name))
		if err != nil {
			fmt.Fprintf(os.Stderr, "synthesize %s: %v\n", name, err)
			return 1
		}
		envs[name] = s
	}
	dirs, regions := map[string]string{}, []string{}
	for name, s := range envs {
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
func synthesized() []string {
	names := make([]string, 0, len(envs))
	for name := range envs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
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

// appContext is the context `cdk synth` would give the app: the feature
// flags of cdk.json and the cached lookups of cdk.context.json.
func appContext() (map[string]any, error) {
	ctx := map[string]any{}
	for _, file := range []string{"cdk.json", "cdk.context.json"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if file == "cdk.json" {
			doc, _ = doc["context"].(map[string]any)
		}
		for k, v := range doc {
			ctx[k] = v
		}
	}
	return ctx, nil
}

func synthesize(ctx map[string]any, outdir string) (s *synthesis, err error) {
	synthCount++
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	// The same path as the CLI: context in, validated config, platform.
	platform, err := build(app)
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
	if !ok {
		t.Fatalf("environment %s has no stack %q", env, stack)
	}
	tpl := assertions.Template_FromJSON(&map[string]any{"Resources": raw["Resources"], "Outputs": raw["Outputs"]}, nil)
	s.assertions[stack] = tpl
	return tpl
}

// resources returns the resources of the given CloudFormation type in one
// template, keyed by logical ID.
func resources(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := tpl["Resources"].(map[string]any)
	for id, r := range res {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

func TestEachEnvironmentIsSynthesizedOnce(t *testing.T) {
	if want := len(config.Names()) + len(variants); synthCount != want {
		t.Fatalf("synthesized %d times for %d environments and %d variants, want once each", synthCount, len(config.Names()), len(variants))
	}
}

func TestEveryEnvironmentSynthesizes(t *testing.T) {
	for _, env := range synthesized() {
		if err := envs[env].synthErr; err != nil {
			t.Errorf("%s: synthesis failed: %v", env, err)
		}
	}
}

func TestStacksAreNamedAndBoundPerEnvironment(t *testing.T) {
	for _, env := range config.Names() {
		s := envs[env]
		for _, stack := range s.platform.Stacks() {
			want := fmt.Sprintf("webapp-%s-", env)
			if name := *stack.StackName(); len(name) <= len(want) || name[:len(want)] != want {
				t.Errorf("%s: stack name %q does not start with %q", env, name, want)
			}
			if got := *stack.Region(); got != s.cfg.Region {
				t.Errorf("%s/%s: region %q, want %q", env, *stack.ArtifactId(), got, s.cfg.Region)
			}
			if got := *stack.TerminationProtection(); got != (env == "prod") {
				t.Errorf("%s/%s: termination protection %v, want %v", env, *stack.ArtifactId(), got, env == "prod")
			}
		}
	}
}

func TestEveryTaggableResourceCarriesThePlatformTags(t *testing.T) {
	for _, env := range config.Names() {
		for stack, tpl := range envs[env].templates {
			for _, typ := range []string{"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::SecurityGroup", "AWS::EC2::NatGateway", "AWS::Logs::LogGroup"} {
				for id, r := range resources(tpl, typ) {
					tags := map[string]string{}
					props, _ := r["Properties"].(map[string]any)
					list, _ := props["Tags"].([]any)
					for _, tag := range list {
						kv := tag.(map[string]any)
						tags[fmt.Sprint(kv["Key"])] = fmt.Sprint(kv["Value"])
					}
					want := map[string]string{"Application": "webapp", "Environment": env, "ManagedBy": "aws-cdk"}
					for k, v := range want {
						if tags[k] != v {
							t.Errorf("%s/%s/%s: tag %s = %q, want %q", env, stack, id, k, tags[k], v)
						}
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
				if !seen[dep] {
					t.Errorf("%s: %s depends on %s, which is not deployed before it", env, id, dep)
				}
			}
			sort.Strings(deps)
			if strings.Join(deps, ",") != strings.Join(want[id], ",") {
				t.Errorf("%s: %s depends on %v, want %v", env, id, deps, want[id])
			}
			seen[id] = true
		}
		if len(seen) != len(want) {
			t.Errorf("%s: stacks %v, want %d stacks", env, seen, len(want))
		}
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
			`LoadBalancer.CertificateArn: got "arn:aws:acm:eu-west-1:222222222222:certificate/00000000-0000-0000-0000-000000000000", want a certificate of the stacks' account 123456789012 (set it with -c certificateArn=ARN)`,
			`Monitoring.AlarmEmails[0]: got "oncall@example.com", want a real address`,
		}},
		{"prod in a real account with an empty certificate", map[string]any{"env": "prod", "account": realAccount, "certificateArn": "", "alarmEmails": "oncall@acme.io"}, []string{
			"LoadBalancer.CertificateArn: got", "(set it with -c certificateArn=ARN)",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Context: &tt.ctx})
			p, err := build(app)
			if err == nil || p != nil {
				t.Fatalf("build() = %v, %v; want no platform and an error", p, err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if n := len(*app.Node().Children()); n != 0 {
				t.Errorf("app has %d children after a failed build, want none", n)
			}
		})
	}
}
