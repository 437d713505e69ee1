package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/example/platform/lib/config"
)

// TestGoldenTemplates compares every stack of every environment with its
// golden template under testdata/ENV/. Refresh them with `go test ./... -update`
// and review the change in the pull request like any other diff.
func TestGoldenTemplates(t *testing.T) {
	if *update {
		if bad := guardVerdict(t); len(bad) > 0 {
			t.Fatalf("not rewriting goldens: the change would replace or remove stateful resources:\n%s\nlist intended ones in %s with a reason", strings.Join(bad, "\n"), allowListFile)
		}
	}
	for _, env := range config.Names() {
		for stack, tpl := range envs[env].templates {
			t.Run(env+"/"+stack, func(t *testing.T) {
				got, err := json.MarshalIndent(tpl, "", " ")
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", env, stack+".template.json"), append(got, '\n'),
					"differs from the synthesized template", "go test ./... -update")
			})
		}
	}
}

// guardVerdict runs the replacement guard before -update may overwrite the
// goldens it compares with.
func guardVerdict(t *testing.T) []string {
	t.Helper()
	bad, _ := guardedChanges(t)
	var out []string
	for _, f := range bad {
		out = append(out, f.String())
	}
	return out
}

// checkGolden compares got with the file at path and prints what changed,
// or with -update writes got there. refresh is the command that rewrites it.
func checkGolden(t *testing.T, path string, got []byte, what, refresh string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v\nrun `%s` to create it", err, refresh)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s %s:\n%s\nif the change is intended, run `%s` and commit it", path, what, lineDiff(string(want), string(got)), refresh)
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
		if s, ok := envs[env]; !ok || s.templates[stack] == nil {
			t.Errorf("%s has no stack in the app; delete it", f)
		}
	}
}

// lineDiff renders the lines that differ between want and got, with a little
// context, in unified-diff style (- golden, + synthesized).
func lineDiff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	// Longest common subsequence table; templates are a few thousand lines.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var ops []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, line{' ', a[i]})
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, line{'+', b[j]})
			j++
		default:
			ops = append(ops, line{'-', a[i]})
			i++
		}
	}
	const context, limit = 3, 200
	var out []string
	last := -1
	for k, op := range ops {
		if op.op == ' ' {
			continue
		}
		for c := max(k-context, last+1); c < k; c++ {
			out = append(out, "  "+ops[c].text)
		}
		out = append(out, string(op.op)+" "+op.text)
		last = k
		if len(out) > limit {
			out = append(out, "... (diff truncated)")
			break
		}
	}
	return strings.Join(out, "\n")
}

// metadataEntry is one annotation in a stack's metadata file.
type metadataEntry struct {
	Type string `json:"type"`
	Data any    `json:"data"`
	path string
}

// metadata returns every metadata entry that synthesis recorded for the
// constructs of every stack of a synthesized configuration.
func metadata(t *testing.T, env string) []metadataEntry {
	t.Helper()
	s := envs[env]
	var out []metadataEntry
	for _, stack := range s.platform.Stacks() {
		raw, err := os.ReadFile(filepath.Join(s.outdir, *stack.ArtifactId()+".metadata.json"))
		if err != nil {
			t.Fatal(err)
		}
		var md map[string][]metadataEntry
		if err := json.Unmarshal(raw, &md); err != nil {
			t.Fatal(err)
		}
		for path, entries := range md {
			for _, e := range entries {
				e.path = path
				out = append(out, e)
			}
		}
	}
	return out
}

// annotations returns the messages of the given type (aws:cdk:error,
// aws:cdk:warning) with the construct path they belong to.
func annotations(t *testing.T, env, typ string) []string {
	t.Helper()
	var out []string
	for _, e := range metadata(t, env) {
		if e.Type == typ {
			out = append(out, fmt.Sprintf("%s: %v", e.path, e.Data))
		}
	}
	sort.Strings(out)
	return out
}

// TestNoErrorsOrWarnings is the cdk-nag gate (AwsSolutions findings are
// errors and warnings on the constructs) and the --strict gate at once: any
// unsuppressed finding or CDK warning fails.
func TestNoErrorsOrWarnings(t *testing.T) {
	for _, env := range synthesized() {
		for _, typ := range []string{"aws:cdk:error", "aws:cdk:warning"} {
			for _, msg := range annotations(t, env, typ) {
				t.Errorf("%s %s %s", env, typ, msg)
			}
		}
	}
}

// TestNagSuppressionsHaveReasons checks that every cdk-nag suppression names
// one rule with a specific reason.
func TestNagSuppressionsHaveReasons(t *testing.T) {
	for _, env := range config.Names() {
		count := 0
		for stack, tpl := range envs[env].templates {
			res, _ := tpl["Resources"].(map[string]any)
			for id, r := range res {
				md, _ := r.(map[string]any)["Metadata"].(map[string]any)
				nag, _ := md["cdk_nag"].(map[string]any)
				rules, _ := nag["rules_to_suppress"].([]any)
				for _, rule := range rules {
					r := rule.(map[string]any)
					count++
					ruleID, _ := r["id"].(string)
					reason, _ := r["reason"].(string)
					if !strings.HasPrefix(ruleID, "AwsSolutions-") || strings.Contains(ruleID, "*") {
						t.Errorf("%s/%s/%s: suppression of %q does not name one AwsSolutions rule", env, stack, id, ruleID)
					}
					if len(reason) < 40 {
						t.Errorf("%s/%s/%s: suppression of %s has no specific reason: %q", env, stack, id, ruleID, reason)
					}
				}
			}
		}
		if count == 0 {
			t.Errorf("%s: found no cdk-nag suppressions at all; is the metadata still rendered?", env)
		}
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
		if err != nil {
			t.Fatalf("%s: %v (is @aws-cdk/core:validateAgainstDefaultRules set?)", env, err)
		}
		var report validationReport
		if err := json.Unmarshal(raw, &report); err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		for _, p := range report.PluginReports {
			for _, v := range p.Violations {
				for _, r := range v.ViolatingResources {
					t.Errorf("%s: %s %s on %s in %s: %s", env, p.PluginName, v.RuleName, r.ResourceLogicalID, filepath.Base(r.TemplatePath), v.Description)
				}
				if len(v.ViolatingResources) == 0 {
					t.Errorf("%s: %s %s: %s", env, p.PluginName, v.RuleName, v.Description)
				}
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
			if !ok {
				t.Errorf("%s %s: acknowledgement %v is not a rule-to-reason map", env, e.path, e.Data)
				continue
			}
			for rule, reason := range rules {
				if r, _ := reason.(string); len(strings.TrimSpace(r)) < 20 {
					t.Errorf("%s %s: acknowledgement of %s has no reason: %q", env, e.path, rule, r)
				}
			}
		}
	}
}

// TestCLISynthIsStrict hands every assembly the tests synthesized to the
// pinned CDK CLI in strict mode, offline, as `cdk synth --strict
// --no-lookups` would check them: any warning or error fails. Reusing the
// assemblies (`--app DIR`) costs the CLI's start-up, not another synthesis.
func TestCLISynthIsStrict(t *testing.T) {
	for _, name := range synthesized() {
		if out, err := pinned(t, "cdk", "synth", "--strict", "--no-lookups", "--quiet", "--app", envs[name].outdir).CombinedOutput(); err != nil {
			t.Errorf("cdk synth --strict --app <%s assembly>: %v\n%s", name, err, out)
		}
	}
}

// TestCLIRejectsBadConfiguration runs the real app through the pinned CLI
// with an unknown environment: `cdk synth` must exit non-zero with the
// validation message and leave no assembly behind.
func TestCLIRejectsBadConfiguration(t *testing.T) {
	<-appBinary.done
	if appBinary.err != nil {
		t.Fatalf("go build: %v\n%s", appBinary.err, appBinary.out)
	}
	bin := appBinary.path
	out := filepath.Join(t.TempDir(), "cdk.out")
	msg, err := pinned(t, "cdk", "synth", "--no-lookups", "--quiet", "--app", bin, "-c", "env=staging", "--output", out).CombinedOutput()
	if err == nil {
		t.Fatalf("cdk synth -c env=staging succeeded, want a non-zero exit\n%s", msg)
	}
	if !strings.Contains(string(msg), `env: got "staging", want one of dev, prod`) {
		t.Errorf("cdk synth -c env=staging output lacks the validation message:\n%s", msg)
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
		t.Errorf("cdk synth -c env=staging wrote an assembly; want nothing synthesized")
	}
}

// pinned returns a command for one of the tools npm ci pins in
// node_modules/.bin (cdk, node), with that directory first on PATH so the
// CLI and anything it starts use the pinned Node.
func pinned(t *testing.T, tool string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("node_modules", ".bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
		t.Fatalf("%v: run `npm ci` first (make test does)", err)
	}
	cmd := exec.Command(filepath.Join(bin, tool), args...)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "CDK_DISABLE_VERSION_CHECK=1")
	return cmd
}
