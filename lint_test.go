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
	"strconv"
	"strings"
	"testing"

	"github.com/example/platform/lib/config"
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

// lintRun is cfn-lint over the templates of one environment, a separate
// process that TestMain starts as soon as the environment's assembly
// exists, so it runs while the next configuration synthesizes.
type lintRun struct {
	done     chan struct{}
	findings []lintFinding
	// missing explains why cfn-lint could not run at all.
	missing string
	err     error
}

// cfnLint holds every run, one per environment.
var cfnLint []*lintRun

// startCfnLint runs the pinned cfn-lint over every template in one
// environment's assembly directory in the background.
func startCfnLint(name, dir, region string) {
	r := &lintRun{done: make(chan struct{})}
	cfnLint = append(cfnLint, r)
	go func() {
		defer close(r.done)
		r.findings, r.missing, r.err = runCfnLint(map[string]string{name: dir}, []string{region})
	}()
}

// lintDone waits for every cfn-lint run.
func lintDone() {
	for _, r := range cfnLint {
		<-r.done
	}
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

// skipWithoutCfnLint skips the test when cfn-lint is missing (the reason
// says how to install it), except under CI=true, where it fails.
func skipWithoutCfnLint(t *testing.T, missing, inCI string) {
	t.Helper()
	if missing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		require.Fail(t, inCI, missing)
	}
	t.Skip(missing)
}

// TestCfnLint fails on every cfn-lint finding in any template of any
// environment that lintIgnores does not acknowledge, and on
// every acknowledgement that no longer matches a finding. Without cfn-lint
// it skips with the install hint, except under CI=true, where it fails.
func TestCfnLint(t *testing.T) {
	lintDone()
	var findings []lintFinding
	for _, r := range cfnLint {
		require.NoError(t, r.err)
		skipWithoutCfnLint(t, r.missing, "CI must lint every template")
		findings = append(findings, r.findings...)
	}
	require.NotEmpty(t, cfnLint, "cfn-lint ran over no environment")
	used := make([]int, len(lintIgnores))
	for _, f := range findings {
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
	t.Logf("cfn-lint: %d findings, all acknowledged", len(findings))
}

// awsLists are AWS's own lists as the pinned cfn-lint ships them
// (cfnlint/data/schemas/extensions, generated from AWS's APIs), per region:
// EC2 instance types, RDS instance classes for PostgreSQL, ElastiCache node
// types; and the PostgreSQL versions RDS lists. TestMain reads them in the
// background, beside the Go checks.
var awsLists struct {
	done                 chan struct{}
	ec2, postgres, cache map[string][]string
	postgresVersions     []string
	missing              string
	err                  error
}

// conditional is a block of cfn-lint's data that applies to one engine.
type conditional struct {
	If struct {
		Properties struct {
			Engine struct {
				Const string `json:"const"`
			} `json:"Engine"`
		} `json:"properties"`
	} `json:"if"`
	Then struct {
		Properties map[string]struct {
			Enum []string `json:"enum"`
		} `json:"properties"`
	} `json:"then"`
}

func startAWSLists() {
	awsLists.done = make(chan struct{})
	go func() {
		defer close(awsLists.done)
		awsLists.err = readAWSLists()
	}()
}

func readAWSLists() error {
	out, err := exec.Command("python3", "-c", "import cfnlint, os; print(os.path.dirname(cfnlint.__file__))").Output()
	if err != nil {
		awsLists.missing = fmt.Sprintf("python3 cannot import cfnlint (%v); install it with: python3 -m pip install -r %s", err, lintRequirements)
		return nil
	}
	data := filepath.Join(strings.TrimSpace(string(out)), "data", "schemas", "extensions")
	// Each file is an object keyed by region (besides a description);
	// engine_version.json is one schema.
	type schema struct {
		Enum  []string      `json:"enum"`
		AllOf []conditional `json:"allOf"`
	}
	perRegion := map[string]map[string]schema{}
	for _, path := range []string{"aws_ec2_instance/instancetype_enum.json", "aws_elasticache_cachecluster/cachenodetype_enum.json", "aws_rds_dbinstance/dbinstanceclass_enum.json"} {
		raw, err := os.ReadFile(filepath.Join(data, path))
		if err != nil {
			return err
		}
		var regions map[string]json.RawMessage
		if err := json.Unmarshal(raw, &regions); err != nil {
			return fmt.Errorf("cfn-lint data %s: %w", path, err)
		}
		perRegion[path] = map[string]schema{}
		for region, r := range regions {
			if len(r) == 0 || r[0] != '{' {
				continue
			}
			var s schema
			if err := json.Unmarshal(r, &s); err != nil {
				return fmt.Errorf("cfn-lint data %s, %s: %w", path, region, err)
			}
			perRegion[path][region] = s
		}
	}
	ec2, cache, rds := perRegion["aws_ec2_instance/instancetype_enum.json"], perRegion["aws_elasticache_cachecluster/cachenodetype_enum.json"], perRegion["aws_rds_dbinstance/dbinstanceclass_enum.json"]
	var versions schema
	raw, err := os.ReadFile(filepath.Join(data, "aws_rds_dbinstance", "engine_version.json"))
	if err == nil {
		err = json.Unmarshal(raw, &versions)
	}
	if err != nil {
		return fmt.Errorf("cfn-lint data engine_version.json: %w", err)
	}
	postgres := func(blocks []conditional, property string) []string {
		var out []string
		for _, b := range blocks {
			if b.If.Properties.Engine.Const == "postgres" {
				out = append(out, b.Then.Properties[property].Enum...)
			}
		}
		return out
	}
	awsLists.ec2, awsLists.cache, awsLists.postgres = map[string][]string{}, map[string][]string{}, map[string][]string{}
	for region, e := range ec2 {
		awsLists.ec2[region] = e.Enum
	}
	for region, e := range cache {
		awsLists.cache[region] = e.Enum
	}
	for region, r := range rds {
		awsLists.postgres[region] = postgres(r.AllOf, "DBInstanceClass")
	}
	awsLists.postgresVersions = postgres(versions.AllOf, "EngineVersion")
	return nil
}

// anyRegion is the union of a per-region list.
func anyRegion(lists map[string][]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// TestCatalogMatchesAWSData compares lib/config/catalog.go, what validation
// accepts, with AWS's own lists as the pinned cfn-lint ships them: every
// instance type, DB instance class and cache node type the catalog lists
// exists somewhere, the newest PostgreSQL minor per major is the newest RDS
// lists, and each synthesized configuration's choices are offered in its
// region (else the deploy fails).
func TestCatalogMatchesAWSData(t *testing.T) {
	<-awsLists.done
	require.NoError(t, awsLists.err)
	skipWithoutCfnLint(t, awsLists.missing, "CI must check the catalog against AWS's data")
	allEC2, allRDS, allCache := anyRegion(awsLists.ec2), anyRegion(awsLists.postgres), anyRegion(awsLists.cache)
	for _, typ := range config.InstanceTypes() {
		assert.Contains(t, allEC2, typ, "lib/config/catalog.go lists EC2 instance type %s, which AWS does not offer", typ)
	}
	for _, class := range config.DBInstanceClasses() {
		assert.Contains(t, allRDS, "db."+class, "lib/config/catalog.go lists RDS class db.%s, which RDS does not offer for PostgreSQL", class)
	}
	for _, node := range config.CacheNodeTypes() {
		assert.Contains(t, allCache, node, "lib/config/catalog.go lists ElastiCache node type %s, which AWS does not offer", node)
	}
	newest := map[string]int{}
	for _, v := range awsLists.postgresVersions {
		major, minor, ok := strings.Cut(v, ".")
		if n, err := strconv.Atoi(minor); ok && err == nil && n > newest[major] {
			newest[major] = n
		}
	}
	require.NotEmpty(t, newest, "cfn-lint's data lists no PostgreSQL version")
	for major, m := range config.PostgresMinors() {
		assert.Equal(t, newest[major], m.Newest, "lib/config/catalog.go: the newest PostgreSQL %s minor RDS lists is %s.%d", major, major, newest[major])
	}
	for _, env := range synthesized() {
		cfg := envs[env].cfg
		assert.Contains(t, awsLists.ec2[cfg.Region], cfg.Cluster.InstanceType, "%s: %s is not offered in %s", env, cfg.Cluster.InstanceType, cfg.Region)
		assert.Contains(t, awsLists.postgres[cfg.Region], "db."+cfg.Database.InstanceClass, "%s: db.%s is not offered for PostgreSQL in %s", env, cfg.Database.InstanceClass, cfg.Region)
		assert.Contains(t, awsLists.cache[cfg.Region], cfg.Cache.NodeType, "%s: %s is not offered in %s", env, cfg.Cache.NodeType, cfg.Region)
	}
}
