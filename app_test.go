package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
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
	envs       = map[string]*synthesis{}
	synthCount int
)

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
	for _, name := range config.Names() {
		s, err := synthesize(name, ctx, filepath.Join(tmp, name))
		if err != nil {
			fmt.Fprintf(os.Stderr, "synthesize %s: %v\n", name, err)
			return 1
		}
		envs[name] = s
	}
	return m.Run()
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

func synthesize(env string, ctx map[string]any, outdir string) (s *synthesis, err error) {
	cfg, err := config.Load(env, config.Overrides{})
	if err != nil {
		return nil, err
	}
	synthCount++
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	s = &synthesis{cfg: cfg, outdir: outdir, templates: map[string]map[string]any{}, assertions: map[string]assertions.Template{}}
	s.platform = lib.NewPlatform(app, cfg)
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
	for _, st := range s.platform.Stacks() {
		if *st.ArtifactId() == stack {
			tpl := assertions.Template_FromJSON(&map[string]any{"Resources": s.templates[stack]["Resources"], "Outputs": s.templates[stack]["Outputs"]}, nil)
			s.assertions[stack] = tpl
			return tpl
		}
	}
	t.Fatalf("environment %s has no stack %q", env, stack)
	return nil
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
	if synthCount != len(config.Names()) {
		t.Fatalf("synthesized %d times for %d environments, want once each", synthCount, len(config.Names()))
	}
}

func TestEveryEnvironmentSynthesizes(t *testing.T) {
	for _, env := range config.Names() {
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
