package main

// The shared test harness of the root package: TestMain synthesizes every
// configuration once (the committed environments and the runbook
// variants of the fixture) and the tests read those templates through the
// helpers below. The other root test files state the platform's rules.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/internal/jsiinode"
	"github.com/example/platform/internal/linediff"
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
	// creating are the stacks it was synthesized as creating (the first
	// pass of a first deploy: -c firstCreate).
	creating []string
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
	// realLookups records realAccount's lookups in cdk.context.json (its
	// zones and the S3 prefix list), as the first-deploy runbook says.
	realLookups bool
	// firstCreate synthesizes it as make deploy's first pass of a first
	// deploy creates it: every stack new (-c firstCreate).
	firstCreate bool
}

// protectedIn is whether a protection configured as on applies to stack
// id of a synthesized configuration: not while the deploy creates it.
func protectedIn(env, id string, on bool) bool {
	return on && !slices.Contains(envs[env].creating, id)
}

// realAccountLookups are the lookups `cdk synth` with credentials for
// realAccount writes into cdk.context.json for region: its three zones and
// the S3 prefix list (pl-6da54004 is eu-west-1's; elsewhere a stand-in of
// the same shape, for a scratch copy only).
func realAccountLookups(region string) map[string]any {
	id := "pl-6da54004"
	if region != "eu-west-1" {
		id = "pl-0123abcd"
	}
	return map[string]any{
		config.ZonesKey(realAccount, region):        []any{region + "a", region + "b", region + "c"},
		config.S3PrefixListKey(realAccount, region): []any{map[string]any{"PrefixListId": id, "Identifier": id}},
	}
}

var (
	// firstRealDeploy is the first-deploy runbook: a real account, a
	// certificate of that account and region, real alarm addresses (and
	// the account's lookups in cdk.context.json).
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
	{name: "first-deploy", env: "prod", realLookups: true, firstCreate: true, edits: []map[string]any{
		firstRealDeploy,
		{"Service": map[string]any{"Rollout": map[string]any{"Strategy": "BLUE_GREEN"}}},
	}},
	{name: "release", env: "prod", realLookups: true, edits: []map[string]any{
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
	if v.realLookups {
		repo.Lookups = merge(repo.Lookups, realAccountLookups("eu-west-1"))
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
	// The same Node as the app's.
	jsiinode.Exec(".")
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
		env      string
		repo     config.Repository
		creating []string
	}
	configs := map[string]configuration{}
	for _, name := range config.Names() {
		configs[name] = configuration{env: name, repo: committed}
	}
	for _, v := range variants {
		repo, err := repositoryOf(v, fixture, tmp)
		if err != nil {
			return fail("variant %s: %v", v.name, err)
		}
		c := configuration{env: v.env, repo: repo}
		if v.firstCreate {
			c.creating = config.StackIDs
		}
		configs[v.name] = c
	}
	synth := func(name string) error {
		c := configs[name]
		ctx := merge(merge(c.repo.Settings, c.repo.Lookups), map[string]any{"env": c.env})
		if len(c.creating) > 0 {
			ctx[config.FirstCreateKey] = strings.Join(c.creating, ",")
		}
		s, err := synthesize(ctx, filepath.Join(tmp, name), c.repo)
		if err != nil {
			return fmt.Errorf("synthesize %s: %w", name, err)
		}
		s.repo, s.creating = c.repo, c.creating
		envs[name] = s
		return nil
	}
	// The environments first: cfn-lint checks what is deployed, every
	// template of every environment (the variants differ from prod only in
	// what the template tests assert), each as soon as it exists, while the
	// next configuration synthesizes on the other core; the Control Tower
	// rules once every environment exists (one cfn-guard run per stack
	// covers all of them), while the variants synthesize.
	// The temporary assemblies go when run returns; the linter must be done.
	startLinter()
	defer lintDone()
	defer controlsDone()
	startAWSLists()
	defer earlyRuns.Wait()
	cliRejects = startCLIRejects(tmp)
	defer func() { <-awsLists.done }()
	assemblies := map[string]string{}
	for _, name := range config.Names() {
		if err := synth(name); err != nil {
			return fail("%v", err)
		}
		startCfnLint(name, envs[name].outdir, envs[name].cfg.Region)
		assemblies[name] = envs[name].outdir
		if name == cliStrictEnv {
			cliStrict = startCLIStrict(envs[name].outdir)
		}
	}
	startControls(assemblies)
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
func stackTemplate(t *testing.T, env, stack string) assertions.Template {
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
func assertTemplate(t *testing.T, name string, assertion func()) {
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
		tpl := stackTemplate(t, env, stack)
		cfg := envs[env].cfg
		for _, c := range checks {
			t.Run(env+"/"+c.name, func(t *testing.T) {
				assertTemplate(t, c.name, func() { c.assert(t, tpl, cfg) })
			})
		}
	}
}

func times(n int) *float64 { return jsii.Number(float64(n)) }

func matching(s string) assertions.Matcher { return assertions.Match_StringLikeRegexp(jsii.String(s)) }

// policyFor is the DeletionPolicy or UpdateReplacePolicy a resource kept by
// RetainData gets in cfg's environment.
func policyFor(cfg config.Config, kept string) string {
	if cfg.RetainData {
		return kept
	}
	return "Delete"
}

// checkGolden compares got with the file at path and prints what changed,
// or with -update writes got there. refresh is the command that rewrites it.
func checkGolden(t *testing.T, path string, got []byte, what, refresh string) {
	t.Helper()
	if *update {
		if strings.HasPrefix(filepath.ToSlash(path), "testdata/") {
			if refused := writesRefused(t); refused != "" {
				// The whole refusal once; every other file only says so.
				refusal.Do(func() { assert.Fail(t, refused) })
				assert.Fail(t, "not written", "%s: the replacement guard refuses the change (above)", path)
				return
			}
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if !assert.NoError(t, err, "run `%s` to create it", refresh) {
		return
	}
	// The diff only when it is shown: most goldens are current, and diffing
	// every one took a sixth of the tests' own CPU.
	if !bytes.Equal(got, want) {
		assert.Fail(t, "golden differs", "%s %s:\n%s\nif the change is intended, run `%s` and commit it",
			path, what, linediff.Diff(string(want), string(got)), refresh)
	}
}

// refusal prints the guard's refusal of an -update once.
var refusal sync.Once

// metadataEntry is one annotation in a stack's metadata file.
type metadataEntry struct {
	Type string `json:"type"`
	Data any    `json:"data"`
	path string
}

// metadata returns every metadata entry that synthesis recorded for the
// constructs of every stack of a synthesized configuration, read once.
func metadata(t *testing.T, env string) []metadataEntry {
	t.Helper()
	s := envs[env]
	if s.metadata != nil {
		return s.metadata
	}
	out := []metadataEntry{}
	for _, stack := range s.platform.Stacks() {
		raw, err := os.ReadFile(filepath.Join(s.outdir, *stack.ArtifactId()+".metadata.json"))
		require.NoError(t, err)
		var md map[string][]metadataEntry
		require.NoError(t, json.Unmarshal(raw, &md))
		for path, entries := range md {
			for _, e := range entries {
				e.path = path
				out = append(out, e)
			}
		}
	}
	s.metadata = out
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

// pinned returns a command for one of the tools npm ci pins in
// node_modules/.bin (cdk, node), with that directory first on PATH so the
// CLI and anything it starts use the pinned Node.
func pinned(t checkT, tool string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("node_modules", ".bin"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(bin, tool))
	require.NoError(t, err, "run `npm ci` first (make test does)")
	cmd := exec.Command(filepath.Join(bin, tool), args...)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "CDK_DISABLE_VERSION_CHECK=1")
	return cmd
}

// early is a command TestMain starts in the background, so that it runs on
// the core a synthesis leaves idle (a CLI run is mostly Node start-up);
// its test waits for the result.
type early struct {
	done chan struct{}
	// setup says why the command could not be built; then it never ran.
	setup error
	out   []byte
	err   error
}

// earlyRuns are the commands still running; TestMain waits for them
// before it removes their directories.
var earlyRuns sync.WaitGroup

// startEarly builds a command with build and runs it in the background.
func startEarly(build func(r *recorder) *exec.Cmd) *early {
	e := &early{done: make(chan struct{})}
	var cmd *exec.Cmd
	rec, panicked := record(func(r *recorder) { cmd = build(r) })
	if len(rec.errors) > 0 || panicked != nil || cmd == nil {
		e.setup = fmt.Errorf("%s %v", strings.Join(rec.errors, "; "), panicked)
		close(e.done)
		return e
	}
	earlyRuns.Go(func() {
		defer close(e.done)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		e.err = runInBackground(cmd)
		e.out = out.Bytes()
	})
	return e
}

// result waits for the command; a command that could not be built fails
// the test.
func (e *early) result(t *testing.T) ([]byte, error) {
	t.Helper()
	require.NotNil(t, e, "TestMain did not start this command")
	<-e.done
	require.NoError(t, e.setup)
	return e.out, e.err
}

// runInBackground runs a check's command at a lower CPU priority: the
// synthesis and cfn-lint are the suite's critical path on two cores, and
// these commands finish long before the tests that read them (Linux and
// macOS; elsewhere the priority stays).
func runInBackground(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, cmd.Process.Pid, 10)
	return cmd.Wait()
}

// flowsOf renders every security-group rule of a synthesized
// configuration (see cfn.Flows), read once.
func flowsOf(t *testing.T, env string) []string {
	t.Helper()
	s := envs[env]
	if s.flows == nil {
		flows, err := cfn.Flows(s.templates)
		require.NoError(t, err)
		s.flows = flows
	}
	return s.flows
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

// sortedKeys returns the keys of m in sorted order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// at returns the value at path below v (object keys and list indexes); where
// the template has another shape it reports the path it could not read as
// a failure and returns nil, so the check goes on without panicking.
func at(t assert.TestingT, v any, path ...any) any {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	got, err := cfn.Get(v, path...)
	if err != nil {
		assert.Fail(t, "the template has an unexpected shape", "%v", err)
		return nil
	}
	return got
}

// checkT is what a check reports through: *testing.T in the suite, and a
// recorder where a test makes sure a check fails, and does not panic, on
// a template of an unexpected shape.
type checkT interface {
	require.TestingT
	Helper()
	Logf(format string, args ...any)
}

// recorder is a checkT that collects what a check reports. FailNow stops
// the check, as it stops a test.
type recorder struct{ errors, logs []string }

type failNow struct{}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) FailNow() { panic(failNow{}) }
func (r *recorder) Helper()  {}
func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

// record runs check with a recorder and returns what it reported and
// whether it panicked (with anything but FailNow).
func record(check func(r *recorder)) (r *recorder, panicked any) {
	r = &recorder{}
	func() {
		defer func() {
			if p := recover(); p != nil {
				if _, stop := p.(failNow); !stop {
					panicked = p
				}
			}
		}()
		check(r)
	}()
	return r, panicked
}
