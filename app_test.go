package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/internal/guard"
	"github.com/example/platform/internal/preflight"
	"github.com/example/platform/lib"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
		var ids []string
		for _, stack := range s.platform.Stacks() {
			id := *stack.ArtifactId()
			ids = append(ids, id)
			assert.Equal(t, s.cfg.StackName(id), *stack.StackName(), "%s/%s: stack name (make deploy looks stacks up by it)", env, id)
			assert.Equal(t, s.cfg.Account, *stack.Account(), "%s/%s: account", env, id)
			assert.Equal(t, s.cfg.Region, *stack.Region(), "%s/%s: region", env, id)
			assert.Equal(t, protectedIn(env, id, s.cfg.TerminationProtection), *stack.TerminationProtection(), "%s/%s: termination protection", env, id)
		}
		assert.ElementsMatch(t, config.StackIDs, ids, "%s: config.StackIDs, which -c firstCreate and make deploy use, lists every stack", env)
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
						kv := cfn.Object(tag)
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
			"cdk.context.json records no S3 prefix list (com.amazonaws.eu-west-1.s3) for account 123456789012 in eu-west-1",
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
// release against the first deploy as its first pass created it (the
// release's deploy also turns the protections on), and both runbooks
// against prod as committed while that is still the prod the repository
// ships (after it, the guard scenarios cover a real account replacing the
// placeholder).
func runbookComparisons(t *testing.T) []guard.Comparison {
	t.Helper()
	committed, err := config.ReadRepository(".")
	require.NoError(t, err)
	fixture, err := fixtureRepository(committed)
	require.NoError(t, err)
	shipped, err := config.Load(fixture, "prod", config.Overrides{})
	require.NoError(t, err)
	cs := []guard.Comparison{{Label: "release", Reviewed: synthesizedStacks("first-deploy"), Deployed: synthesizedStacks("release")}}
	if reflect.DeepEqual(shipped, envs["prod"].cfg) {
		cs = append(cs, guard.Comparison{Label: "first-release", Reviewed: synthesizedStacks("prod"), Deployed: synthesizedStacks("release")})
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
				editJSON(t, filepath.Join(dir, "cdk.context.json"), realAccountLookups(committed.Region))
			}
			for _, step := range [][]string{{"make", "-s", "update-golden"}, {"make", "-s", "test"}} {
				cmd := exec.Command(step[0], step[1:]...)
				cmd.Dir = dir
				// A parent make's variables (make runbooks passes its own,
				// GOTESTFLAGS included, through MAKEFLAGS) must not narrow
				// the suite the replay runs.
				cmd.Env = append(os.Environ(), "GUARD_BASE=", "RUNBOOK_REPLAY=", "MAKEFLAGS=", "MFLAGS=", "MAKELEVEL=", "GOTESTFLAGS=")
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "%s after the %s runbook:\n%s", strings.Join(step, " "), rb.name, out)
			}
		})
	}
}

// TestPlaceholderNeedsDocker: a deploy that runs the placeholder image
// builds it with Docker; without Docker it is refused before any stack
// deploys, and a release tag needs no Docker.
func TestPlaceholderNeedsDocker(t *testing.T) {
	assert.Equal(t, lib.PlaceholderDir, preflight.PlaceholderDir)
	var placeholder, release config.Config
	placeholder.Service.AllowPlaceholderImage = true
	release.Service.ImageTag = "v1.0.0"
	noDocker := func(name string, args ...string) error { return fmt.Errorf("%s %v: not found", name, args) }
	docker := func(string, ...string) error { return nil }
	err := preflight.PlaceholderCanBeBuilt(placeholder, noDocker)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cdk deploy builds with Docker (lib/placeholder)")
	assert.NoError(t, preflight.PlaceholderCanBeBuilt(placeholder, docker))
	assert.NoError(t, preflight.PlaceholderCanBeBuilt(release, noDocker))
}
