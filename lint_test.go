package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	{"W3005", "Database", "^DatabaseUser(Function|ProviderframeworkonEvent)[0-9A-F]{8}$", "",
		"the CDK's Function depends on its role construct so the role's DefaultPolicy (secrets, key, invoke) exists before the function runs; the role half of that is redundant with the GetAtt"},
	{"W3005", "Service", "^RedeployOnRotation[0-9A-F]{8}$", "",
		"the CDK's StateMachine depends on its role construct so the role's DefaultPolicy exists before the machine runs; the role half of that is redundant with the GetAtt"},
	{"W3010", "Network", "^Vpc(Public|Private)Subnet[0-9]+Subnet", "",
		"the zones are validated configuration (Config.AvailabilityZones): pinning them keeps a subnet, and everything in it, from moving when the account's zone list changes"},
	{"E3016", "Cluster", "^InstancesASG[0-9A-F]{8}$", `'AutoScalingInstanceRefresh' was unexpected`,
		"cfn-lint 1.51.0's UpdatePolicy schema predates CloudFormation's AutoScalingInstanceRefresh update policy, which aws-cdk-lib added in 2.263.0 " +
			"(CfnAutoScalingInstanceRefresh: \"When properties that trigger an instance refresh change ... CloudFormation starts an instance refresh\"); " +
			"the CDK's built-in validator accepts it. Drop this entry when the pinned cfn-lint knows the policy"},
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

// lintRun is cfn-lint over the templates of one environment, sent to the
// linter as soon as the environment's assembly exists, so it is linted
// while the next configuration synthesizes.
type lintRun struct {
	name, dir, region string
	done              chan struct{}
	findings          []lintFinding
	// missing explains why cfn-lint could not run at all.
	missing string
	err     error
}

// cfnLint holds every run, one per environment.
var cfnLint []*lintRun

// linter is the one cfn-lint process of a test binary
// (tools/cfn-lint/batch.py), started before the first synthesis: importing
// cfn-lint and loading its rules happen once, while the app synthesizes,
// not once per environment. It lints the runs in the order they are
// queued.
var linter struct {
	queue  chan *lintRun
	end    sync.Once
	exited chan struct{}
	// hello is the process's first line, ready once helloDone is closed.
	helloDone chan struct{}
	hello     struct {
		Version string `json:"version"`
		Package string `json:"package"`
		Missing string `json:"missing"`
	}
	helloErr error
}

// startLinter starts the linter.
func startLinter() {
	linter.queue = make(chan *lintRun, 16)
	linter.exited, linter.helloDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(linter.exited)
		serveLint()
	}()
}

// startCfnLint queues every template in one environment's assembly
// directory for the linter.
func startCfnLint(name, dir, region string) {
	r := &lintRun{name: name, dir: dir, region: region, done: make(chan struct{})}
	cfnLint = append(cfnLint, r)
	linter.queue <- r
}

// lintDone tells the linter that no environment follows and waits for
// every run and for the process to exit.
func lintDone() {
	linter.end.Do(func() { close(linter.queue) })
	<-linter.exited
}

// serveLint runs the linter process and answers every queued run.
func serveLint() {
	install := "install it with: python3 -m pip install -r " + lintRequirements
	var stderr bytes.Buffer
	cmd := exec.Command("python3", filepath.Join("tools", "cfn-lint", "batch.py"))
	cmd.Stderr = &stderr
	in, errIn := cmd.StdinPipe()
	out, errOut := cmd.StdoutPipe()
	started := errors.Join(errIn, errOut)
	if started == nil {
		if err := cmd.Start(); err != nil {
			linter.hello.Missing = fmt.Sprintf("python3 cannot run (%v)", err)
		}
	}
	lines := bufio.NewReader(out)
	read := func(v any) error {
		line, err := lines.ReadBytes('\n')
		if err == nil {
			err = json.Unmarshal(line, v)
		}
		if err != nil {
			return fmt.Errorf("%s: %v\n%s%s", "tools/cfn-lint/batch.py", err, line, stderr.String())
		}
		return nil
	}
	linter.helloErr = started
	if started == nil && linter.hello.Missing == "" {
		linter.helloErr = read(&linter.hello)
	}
	if linter.hello.Missing != "" {
		linter.hello.Missing += "; " + install
	}
	want, err := pinnedLintVersion()
	if err == nil && linter.helloErr == nil && linter.hello.Missing == "" && linter.hello.Version != want {
		err = fmt.Errorf("found cfn-lint %s, the project pins cfn-lint %s; %s", linter.hello.Version, want, install)
	}
	close(linter.helloDone)
	for r := range linter.queue {
		switch {
		case linter.helloErr != nil:
			r.err = linter.helloErr
		case linter.hello.Missing != "":
			r.missing = linter.hello.Missing
		case err != nil:
			r.err = err
		default:
			r.findings, r.err = lintEnvironment(r, in, read)
		}
		close(r.done)
	}
	if in != nil {
		in.Close()
	}
	if cmd.Process != nil {
		cmd.Wait()
	}
}

// lintEnvironment lints one run's templates in its region, as
// `cfn-lint --format json --override-spec tools/cfn-lint/override-spec.json
// --regions REGION -- TEMPLATES` would.
func lintEnvironment(r *lintRun, in io.Writer, read func(any) error) ([]lintFinding, error) {
	args := []string{"--format", "json", "--override-spec", filepath.Join("tools", "cfn-lint", "override-spec.json"), "--regions", r.region, "--"}
	files, _ := filepath.Glob(filepath.Join(r.dir, "*.template.json"))
	if len(files) == 0 {
		return nil, errors.New("no template to lint")
	}
	stacks := map[string]string{}
	for _, f := range files {
		stacks[f] = strings.TrimSuffix(filepath.Base(f), ".template.json")
	}
	request, err := json.Marshal(append(args, files...))
	if err != nil {
		return nil, err
	}
	if _, err := in.Write(append(request, '\n')); err != nil {
		return nil, err
	}
	var answer struct {
		Output *string `json:"output"`
		Error  string  `json:"error"`
	}
	if err := read(&answer); err != nil {
		return nil, err
	}
	if answer.Output == nil {
		return nil, fmt.Errorf("cfn-lint %s: %s", r.name, answer.Error)
	}
	var findings []lintFinding
	if err := json.Unmarshal([]byte(*answer.Output), &findings); err != nil {
		return nil, fmt.Errorf("cfn-lint %s: %v\n%s", r.name, err, *answer.Output)
	}
	for i := range findings {
		stack, ok := stacks[findings[i].Filename]
		if !ok {
			return nil, fmt.Errorf("cfn-lint %s: a finding in %q, which was not linted", r.name, findings[i].Filename)
		}
		findings[i].config, findings[i].stack = r.name, stack
	}
	return findings, nil
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
	<-linter.helloDone
	if linter.helloErr != nil || linter.hello.Missing != "" {
		awsLists.missing = linter.hello.Missing
		return linter.helloErr
	}
	data := filepath.Join(linter.hello.Package, "data", "schemas", "extensions")
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
