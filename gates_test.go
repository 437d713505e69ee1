package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/internal/codecheck"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGoldenTemplates compares every stack of every environment with its
// golden template under testdata/ENV/. Refresh them with `make update-golden`
// and review the change in the pull request like any other diff.
func TestGoldenTemplates(t *testing.T) {
	for _, env := range config.Names() {
		for stack, tpl := range envs[env].templates {
			t.Run(env+"/"+stack, func(t *testing.T) {
				got, err := json.MarshalIndent(tpl, "", " ")
				require.NoError(t, err)
				checkGolden(t, filepath.Join("testdata", env, stack+".template.json"), append(got, '\n'),
					"differs from the synthesized template", "make update-golden")
			})
		}
	}
}

// TestGoldenTemplatesHaveNoStrays fails when testdata/ holds a template of a
// stack that no longer exists, so a removed stack is noticed in review.
func TestGoldenTemplatesHaveNoStrays(t *testing.T) {
	if *update {
		t.Skip("refreshing goldens")
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.template.json"))
	for _, f := range files {
		env := filepath.Base(filepath.Dir(f))
		stack := strings.TrimSuffix(filepath.Base(f), ".template.json")
		if assert.Contains(t, envs, env, "%s belongs to no synthesized environment; delete it", f) {
			assert.Contains(t, envs[env].templates, stack, "%s has no stack in the app; delete it", f)
		}
	}
}

// TestNoErrorsOrWarnings is the cdk-nag gate (AwsSolutions findings are
// errors and warnings on the constructs) and the --strict gate at once: any
// unsuppressed finding or CDK warning fails.
func TestNoErrorsOrWarnings(t *testing.T) {
	for _, env := range synthesized() {
		for _, typ := range []string{"aws:cdk:error", "aws:cdk:warning"} {
			assert.Empty(t, annotations(t, env, typ), "%s: %s annotations", env, typ)
		}
	}
}

// TestNagSuppressionsHaveReasons checks that every cdk-nag suppression names
// one rule with a specific reason.
func TestNagSuppressionsHaveReasons(t *testing.T) {
	for _, env := range config.Names() {
		count := 0
		cfn.Each(envs[env].templates, "", func(stack, id string, r map[string]any) {
			md, _ := r["Metadata"].(map[string]any)
			nag, _ := md["cdk_nag"].(map[string]any)
			rules, _ := nag["rules_to_suppress"].([]any)
			for _, rule := range rules {
				r := cfn.Object(rule)
				count++
				ruleID, _ := r["id"].(string)
				reason, _ := r["reason"].(string)
				assert.False(t, !strings.HasPrefix(ruleID, "AwsSolutions-") || strings.Contains(ruleID, "*"), "%s/%s/%s: suppression of %q does not name one AwsSolutions rule", env, stack, id, ruleID)
				assert.GreaterOrEqual(t, len(reason), 40, "%s/%s/%s: suppression of %s has no specific reason: %q", env, stack, id, ruleID, reason)
			}
		})
		assert.Positive(t, count, "%s: found no cdk-nag suppressions at all; is the metadata still rendered?", env)
	}
}

// validationReport is the part of validation-report.json the gate reads.
type validationReport struct {
	PluginReports []struct {
		PluginName string `json:"pluginName"`
		Violations []struct {
			RuleName           string `json:"ruleName"`
			Description        string `json:"description"`
			ViolatingResources []struct {
				ResourceLogicalID string `json:"resourceLogicalId"`
				TemplatePath      string `json:"templatePath"`
			} `json:"violatingResources"`
		} `json:"violations"`
	} `json:"pluginReports"`
}

// TestValidationReportIsClean reads the report of the built-in CloudFormation
// validator. Findings that are expected are acknowledged on the narrowest
// construct with Validations.Acknowledge and a reason, and do not appear as
// violations.
func TestValidationReportIsClean(t *testing.T) {
	for _, env := range synthesized() {
		raw, err := os.ReadFile(filepath.Join(envs[env].outdir, "validation-report.json"))
		require.NoError(t, err, "%s: is @aws-cdk/core:validateAgainstDefaultRules set?", env)
		var report validationReport
		require.NoError(t, json.Unmarshal(raw, &report), env)
		for _, p := range report.PluginReports {
			for _, v := range p.Violations {
				var where []string
				for _, r := range v.ViolatingResources {
					where = append(where, r.ResourceLogicalID+" in "+filepath.Base(r.TemplatePath))
				}
				assert.Fail(t, "validation finding", "%s: %s %s on %v: %s", env, p.PluginName, v.RuleName, where, v.Description)
			}
		}
	}
}

// TestValidationAcknowledgementsHaveReasons checks every finding of the
// built-in validator that the app (or the CDK on its behalf) acknowledges:
// each names its rule and gives a reason.
func TestValidationAcknowledgementsHaveReasons(t *testing.T) {
	for _, env := range synthesized() {
		for _, e := range metadata(t, env) {
			if e.Type != "aws:cdk:acknowledged-rules" {
				continue
			}
			rules, ok := e.Data.(map[string]any)
			if !assert.True(t, ok, "%s %s: acknowledgement %v is not a rule-to-reason map", env, e.path, e.Data) {
				continue
			}
			for rule, reason := range rules {
				r, _ := reason.(string)
				assert.GreaterOrEqual(t, len(strings.TrimSpace(r)), 20, "%s %s: acknowledgement of %s has no reason: %q", env, e.path, rule, r)
			}
		}
	}
}

// TestCLISynthIsStrict hands prod's assembly to the pinned CDK CLI in
// strict mode, offline, as `cdk synth --strict --no-lookups` would check
// it: any warning or error fails. Reusing the assembly (`--app DIR`) costs
// the CLI's start-up, not another synthesis. One environment proves that
// the pinned CLI reads this library's assemblies; the warnings and errors
// of every configuration are TestNoErrorsOrWarnings' to catch, from the
// same metadata the CLI reads.
func TestCLISynthIsStrict(t *testing.T) {
	out, err := cliStrict.result(t)
	assert.NoError(t, err, "cdk synth --strict --app <%s assembly>:\n%s", cliStrictEnv, out)
}

// cliStrict is TestCLISynthIsStrict's CLI run over cliStrictEnv, started as
// soon as its assembly exists.
var cliStrict *early

const cliStrictEnv = "prod"

func startCLIStrict(assembly string) *early {
	return startEarly(func(r *recorder) *exec.Cmd {
		return pinned(r, "cdk", "synth", "--strict", "--no-lookups", "--quiet", "--app", assembly)
	})
}

// TestCLIRejectsBadConfiguration runs the real app through the pinned CLI
// with an unknown environment and a mistyped key: `cdk synth` must exit
// non-zero with both messages and leave no assembly behind.
func TestCLIRejectsBadConfiguration(t *testing.T) {
	msg, err := cliRejects.result(t)
	require.Error(t, err, "cdk synth -c env=staging succeeded, want a non-zero exit\n%s", msg)
	assert.Contains(t, string(msg), `env: got "staging", want one of dev, prod`, "cdk synth -c env=staging output lacks the validation message:\n%s", msg)
	// The CLI hands the app its own context too (feature flags, settings,
	// lookups); only what the user typed may be unknown.
	assert.Equal(t, 1, strings.Count(string(msg), "unknown context key"), "exactly the mistyped -c imagetag is unknown:\n%s", msg)
	assert.Contains(t, string(msg), "-c imagetag: unknown context key (did you mean imageTag?)")
	_, err = os.Stat(filepath.Join(cliRejectsOut, "manifest.json"))
	assert.Error(t, err, "cdk synth -c env=staging wrote an assembly; want nothing synthesized")
}

// cliRejects is TestCLIRejectsBadConfiguration's CLI run, started before
// the first synthesis (it needs none), writing under cliRejectsOut.
var (
	cliRejects    *early
	cliRejectsOut string
)

func startCLIRejects(tmp string) *early {
	cliRejectsOut = filepath.Join(tmp, "rejected.out")
	return startEarly(func(r *recorder) *exec.Cmd {
		// This test binary is the app when runAsApp is set (see TestMain).
		self, err := os.Executable()
		require.NoError(r, err)
		cmd := pinned(r, "cdk", "synth", "--no-lookups", "--quiet", "--app", self+" -test.run=^$", "-c", "env=staging", "-c", "imagetag=v1", "--output", cliRejectsOut)
		cmd.Env = append(cmd.Env, runAsApp+"=1")
		return cmd
	})
}

// TestWorkflowsAreValid lints the GitHub Actions workflows with the
// actionlint pinned in go.mod (a tool dependency), and checks what the
// review process relies on: pull requests run make test guarded against
// their base branch and publish make diff; AWS is reached only through
// OIDC, only by the jobs that deploy, never with stored keys.
func TestWorkflowsAreValid(t *testing.T) {
	out, err := exec.Command("go", "tool", "actionlint", "-no-color").CombinedOutput()
	require.NoError(t, err, "actionlint:\n%s", out)

	files, err := filepath.Glob(filepath.Join(".github", "workflows", "*.yml"))
	require.NoError(t, err)
	require.Len(t, files, 3, "pull-request.yml, deploy.yml and drift.yml")
	read := func(name string) string {
		raw, err := os.ReadFile(filepath.Join(".github", "workflows", name))
		require.NoError(t, err)
		return string(raw)
	}
	pr := read("pull-request.yml")
	assert.Contains(t, pr, "GUARD_TARGET: origin/${{ github.base_ref }}")
	assert.Contains(t, pr, "run: bash .ci/run", "pull requests run the CI job itself")
	assert.Contains(t, pr, "fetch-depth: 0", "the guard reads the base branch's goldens")
	assert.Contains(t, pr, "GITHUB_STEP_SUMMARY")
	assert.NotContains(t, pr, "id-token", "pull requests get no AWS access")
	assert.Contains(t, pr, "if: always()", "the diff summary is there exactly when the tests fail")
	assert.Contains(t, pr, "git merge-base HEAD", "the summary compares with the merge base, not the base branch's tip")
	deploy := read("deploy.yml")
	assert.Contains(t, deploy, "  dev:\n    needs: test\n", "nothing deploys that did not pass the tests on main")
	assert.Contains(t, deploy, "  prod-diff:\n    needs: dev\n", "the live prod change is shown only after dev deployed and verified")
	assert.Contains(t, deploy, "  prod:\n    needs: prod-diff\n", "prod deploys after the live change is in a summary the reviewer can read")
	assert.Contains(t, deploy, "run: bash .ci/run")
	assert.Equal(t, 3, strings.Count(deploy, "id-token: write"), "only the two deploy jobs and the read-only diff job may request an ID token")
	assert.Equal(t, 3, strings.Count(deploy, "role-to-assume:"))
	// dev deploys, then verifies; the prod change is summarized by a job
	// without approval, read-only; then prod deploys and verifies.
	inOrder(t, deploy, "make deploy ENV=dev APPROVAL=never VERIFY=no", "make verify ENV=dev", "  prod-diff:", "environment: prod-read",
		"vars.AWS_READ_ROLE_ARN", "make -s live-diff ENV=prod", "GITHUB_STEP_SUMMARY", "  prod:", "environment: prod\n",
		"make deploy ENV=prod APPROVAL=never VERIFY=no", "make verify ENV=prod")
	drift := read("drift.yml")
	assert.Contains(t, drift, "schedule:")
	assert.Contains(t, drift, "run: make drift ENV=prod")
	assert.Contains(t, drift, "role-to-assume: ${{ vars.AWS_READ_ROLE_ARN }}", "drift detection reads with the read-only role")
	assert.Equal(t, 1, strings.Count(drift, "id-token: write"), "the drift job alone requests an ID token")
	assert.NotContains(t, drift, "group: deploy", "a queued drift run would cancel a deploy pending in the deploy group")
	for _, f := range []string{pr, deploy, drift} {
		assert.NotContains(t, f, "aws-access-key-id", "no stored AWS keys")
		assert.NotContains(t, f, "AWS_SECRET_ACCESS_KEY", "no stored AWS keys")
		assert.Contains(t, f, "permissions:\n  contents: read", "least privilege by default")
	}
}

// inOrder asserts that each of parts occurs in s after the one before it.
func inOrder(t *testing.T, s string, parts ...string) {
	t.Helper()
	at := 0
	for _, p := range parts {
		i := strings.Index(s[at:], p)
		if !assert.GreaterOrEqual(t, i, 0, "%q does not follow %q", p, s[:at][max(0, at-60):]) {
			return
		}
		at += i + len(p)
	}
}

// flagName matches a feature flag as aws-cdk-lib's cx-api declares it.
var flagName = regexp.MustCompile(`"(@[a-z0-9-]+/[A-Za-z0-9-]+:[A-Za-z0-9_.-]+)"`)

// TestFeatureFlagsAreKnown: every key of cdk.json's context is a feature
// flag or setting the pinned aws-cdk-lib declares (its cx-api features),
// so a mistyped flag, which the CDK ignores silently, fails here.
func TestFeatureFlagsAreKnown(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-cdk-go/awscdk/v2").Output()
	require.NoError(t, err, "go list -m github.com/aws/aws-cdk-go/awscdk/v2")
	tarballs, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "jsii", "aws-cdk-lib-*.tgz"))
	require.NoError(t, err)
	require.Len(t, tarballs, 1, "aws-cdk-go embeds one aws-cdk-lib tarball")
	f, err := os.Open(tarballs[0])
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	known := map[string]bool{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if h.Name != "package/cx-api/lib/features.js" {
			continue
		}
		src, err := io.ReadAll(tr)
		require.NoError(t, err)
		for _, m := range flagName.FindAllSubmatch(src, -1) {
			known[string(m[1])] = true
		}
		break
	}
	require.NotEmpty(t, known, "%s: found no cx-api/lib/features.js with flags", tarballs[0])
	committed, err := config.ReadRepository(".")
	require.NoError(t, err)
	for key := range committed.Settings {
		if strings.HasPrefix(key, "@") {
			assert.True(t, known[key], "cdk.json sets %s, which aws-cdk-lib does not declare (mistyped? the CDK would ignore it)", key)
		}
	}
}

// TestNoBareTypeAssertions: test code and its machinery read templates and
// JSON only with checked type assertions, so an unexpected shape fails one
// check instead of panicking the test binary every check shares.
func TestNoBareTypeAssertions(t *testing.T) {
	var files []string
	for _, pattern := range []string{"*_test.go", "internal/*/*.go", "tools/*/*.go"} {
		matches, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, matches...)
	}
	bare, err := codecheck.BareTypeAssertions(files)
	require.NoError(t, err)
	assert.Empty(t, bare, "unchecked type assertions: use the two-value form, cfn.Object/List/Props or at()")
}
