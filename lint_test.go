package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lintRequirements pins cfn-lint; CI installs it from there.
const lintRequirements = "tools/cfn-lint/requirements.txt"

// lintIgnore acknowledges a cfn-lint finding instead of fixing it: one rule
// on the resources of one stack whose logical ID matches resource (without
// the hash) and, where set, whose message matches message; with the reason.
type lintIgnore struct{ rule, stack, resource, message, reason string }

// lintIgnores are the acknowledged findings. An entry that matches no
// finding fails TestCfnLint as stale.
var lintIgnores = []lintIgnore{
	{"W3005", "Network", "^CustomVpcRestrictDefaultSGCustomResourceProviderHandler", "",
		"the CDK's custom-resource provider always adds DependsOn on its role (needed when the role ARN is a formatted string); redundant with the GetAtt, harmless (aws/aws-cdk#24578)"},
	{"W3005", "LoadBalancer", "^CustomS3AutoDeleteObjectsCustomResourceProviderHandler", "",
		"the CDK's custom-resource provider always adds DependsOn on its role (needed when the role ARN is a formatted string); redundant with the GetAtt, harmless (aws/aws-cdk#24578)"},
	{"W3005", "Service", "^RedeployOnRotation[0-9A-F]{8}$", "",
		"the CDK's StateMachine depends on its role construct so the role's DefaultPolicy exists before the machine runs; the role half of that is redundant with the GetAtt"},
	{"W3010", "Network", "^Vpc(Public|Private)Subnet[0-9]+Subnet", "",
		"the zones are validated configuration (Config.AvailabilityZones): pinning them keeps a subnet, and everything in it, from moving when the account's zone list changes"},
	{"W3691", "Database", "^Database[0-9A-F]{8}$", `^Engine version '[0-9]+' `,
		"a major version alone is valid: \"If a major version is specified but a minor version is not, Amazon RDS defaults to a recent release\" (RDS User Guide, PostgreSQL.Concepts.General.DBVersions; cfn-lint#3849 fixed E3691 for it). " +
			"cfn-lint 1.51.0's deprecation data lists each major whose old minors are deprecated; a pinned minor still fails this rule"},
}

// lintFinding is one cfn-lint match in its JSON output.
type lintFinding struct {
	Filename string `json:"Filename"`
	Level    string `json:"Level"`
	Message  string `json:"Message"`
	Rule     struct {
		ID string `json:"Id"`
	} `json:"Rule"`
	Location struct {
		Path  []any `json:"Path"`
		Start struct {
			Line int `json:"LineNumber"`
		} `json:"Start"`
	} `json:"Location"`
	// config and stack name the template the finding is in.
	config, stack string
}

func (f lintFinding) resource() string {
	if len(f.Location.Path) >= 2 && f.Location.Path[0] == "Resources" {
		return fmt.Sprint(f.Location.Path[1])
	}
	return ""
}

func (f lintFinding) String() string {
	return fmt.Sprintf("%s %s/%s %s (line %d): %s", f.Rule.ID, f.config, f.stack, f.resource(), f.Location.Start.Line, f.Message)
}

// cfnLint holds the result of cfn-lint over every synthesized template. It
// runs as a separate process started by TestMain as soon as the assemblies
// exist, beside the Go-side checks.
var cfnLint struct {
	done     chan struct{}
	findings []lintFinding
	// missing explains why cfn-lint could not run at all.
	missing string
	err     error
}

// startCfnLint runs the pinned cfn-lint over every template in the
// assembly directories (configuration name -> directory) in the background.
func startCfnLint(dirs map[string]string, regions []string) {
	cfnLint.done = make(chan struct{})
	go func() {
		defer close(cfnLint.done)
		cfnLint.findings, cfnLint.missing, cfnLint.err = runCfnLint(dirs, regions)
	}()
}

func runCfnLint(dirs map[string]string, regions []string) ([]lintFinding, string, error) {
	want, err := pinnedLintVersion()
	if err != nil {
		return nil, "", err
	}
	install := "install it with: python3 -m pip install -r " + lintRequirements
	version, err := exec.Command("cfn-lint", "--version").Output()
	if err != nil {
		return nil, fmt.Sprintf("cfn-lint is not installed (%v); %s", err, install), nil
	}
	if got := strings.TrimSpace(string(version)); got != "cfn-lint "+want {
		return nil, "", fmt.Errorf("found %q, the project pins cfn-lint %s; %s", got, want, install)
	}
	owner := map[string][2]string{}
	args := []string{"--format", "json", "--override-spec", filepath.Join("tools", "cfn-lint", "override-spec.json"), "--regions"}
	args = append(args, regions...)
	args = append(args, "--")
	for name, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.template.json"))
		for _, f := range files {
			owner[f] = [2]string{name, strings.TrimSuffix(filepath.Base(f), ".template.json")}
			args = append(args, f)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("cfn-lint", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	// cfn-lint exits non-zero whenever it finds something; only output that
	// is not its JSON report means it failed.
	var findings []lintFinding
	if err := json.Unmarshal(stdout.Bytes(), &findings); err != nil {
		return nil, "", fmt.Errorf("cfn-lint: %v, %v\n%s%s", runErr, err, stdout.String(), stderr.String())
	}
	if len(owner) == 0 {
		return nil, "", errors.New("no template to lint")
	}
	for i := range findings {
		o := owner[findings[i].Filename]
		findings[i].config, findings[i].stack = o[0], o[1]
	}
	return findings, "", nil
}

// pinnedLintVersion reads the cfn-lint version from the requirements file.
func pinnedLintVersion() (string, error) {
	f, err := os.Open(lintRequirements)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "cfn-lint=="); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s pins no cfn-lint==VERSION", lintRequirements)
}

// TestCfnLint fails on every cfn-lint finding in any template of any
// environment that lintIgnores does not acknowledge, and on
// every acknowledgement that no longer matches a finding. Without cfn-lint
// it skips with the install hint, except under CI=true, where it fails.
func TestCfnLint(t *testing.T) {
	<-cfnLint.done
	require.NoError(t, cfnLint.err)
	if cfnLint.missing != "" {
		if os.Getenv("CI") == "true" {
			require.Fail(t, "CI must lint every template", cfnLint.missing)
		}
		t.Skip(cfnLint.missing)
	}
	used := make([]int, len(lintIgnores))
	for _, f := range cfnLint.findings {
		i := slices.IndexFunc(lintIgnores, func(ig lintIgnore) bool {
			return ig.rule == f.Rule.ID && ig.stack == f.stack && regexp.MustCompile(ig.resource).MatchString(f.resource()) &&
				regexp.MustCompile(ig.message).MatchString(f.Message)
		})
		if !assert.GreaterOrEqual(t, i, 0, "cfn-lint finding that lintIgnores does not acknowledge: %s", f) {
			continue
		}
		used[i]++
	}
	for i, ig := range lintIgnores {
		assert.NotZero(t, used[i], "stale cfn-lint acknowledgement %s on %s %s: it matches no finding; remove it", ig.rule, ig.stack, ig.resource)
	}
	t.Logf("cfn-lint: %d findings, all acknowledged", len(cfnLint.findings))
}
