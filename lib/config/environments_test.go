package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withCDK is ctx as the CLI hands it to the app: cdk.json's settings, the
// lookups of cdk.context.json and the CLI's own settings besides the -c
// keys. None of it is an unknown key.
func withCDK(t *testing.T, ctx map[string]any) map[string]any {
	out := map[string]any{"aws:cdk:enable-path-metadata": true, "aws:cdk:version-reporting": false, "@aws-cdk/core:failSynthOnValidationErrors": false}
	repo := fixtureRepo(t)
	for _, m := range []map[string]any{repo.Settings, repo.Lookups, ctx} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestCommandLineMistakesAreErrors: each mistake typed on the command line
// is reported with what was typed and the config field it meant, all at
// once; the CDK's own context is never one of them.
func TestCommandLineMistakesAreErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		ctx  map[string]any
		want []string
	}{
		{"misspelt key", map[string]any{"env": "prod", "imagetag": "v1"}, []string{
			"-c imagetag: unknown context key (did you mean imageTag?); the app knows env, account, certificateArn, imageTag, amiId, alarmEmails"}},
		{"misspelt env key does not fall back to dev", map[string]any{"enviroment": "prod", "account": "123456789012"}, []string{
			"-c enviroment: unknown context key"}},
		{"value that is not a string", map[string]any{"imageTag": 42.0}, []string{
			"-c imageTag (Service.ImageTag): got 42 (float64), want a string"}},
		{"empty environment", map[string]any{"env": ""}, []string{
			"-c env: got an empty name, want one of dev, prod"}},
		{"unknown environment hides nothing", map[string]any{"env": "staging", "amiid": "ami-0123456789abcdef0", "account": 1.0}, []string{
			`-c env: got "staging", want one of dev, prod`, "-c amiid: unknown context key (did you mean amiId?)", "-c account (Account): got 1 (float64), want a string"}},
		{"empty override", map[string]any{"env": "prod", "imageTag": ""}, []string{
			"-c imageTag: got an empty value; leave the key out to keep what"}},
		{"empty override beside an unknown environment", map[string]any{"env": "staging", "imageTag": ""}, []string{
			`-c env: got "staging"`, "-c imageTag: got an empty value"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromContext(withCDK(t, tt.ctx), fixtureRepo(t))
			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.Len(t, unwrap(err), len(tt.want), "problems reported:\n%s", err)
		})
	}
}

func TestCDKContextAndNoOverrideReproduceTheCommittedFile(t *testing.T) {
	for _, env := range Names() {
		got, err := FromContext(withCDK(t, map[string]any{"env": env}), fixtureRepo(t))
		require.NoError(t, err)
		want, err := Load(fixtureRepo(t), env, Overrides{})
		require.NoError(t, err)
		assert.Equal(t, want, got, env)
	}
}

// TestEnvironmentFileIsDecodedStrictly: a committed file may only set
// fields Config has, with values of their type; whatever the standard
// decoder would skip, guess or ignore is an error naming the file and the
// field.
func TestEnvironmentFileIsDecodedStrictly(t *testing.T) {
	// ok is what a valid dev file says besides the case's own lines.
	const ok = `"Account": "111111111111", "Service": {"AllowPlaceholderImage": true}`
	for _, tt := range []struct {
		name, file string
		want       []string
	}{
		{"unknown field", `{` + ok + `, "Acount": "x"}`, []string{"dev.json: unknown field Acount (did you mean Account?)"}},
		{"field in the wrong case", `{"account": "111111111111", "Service": {"AllowPlaceholderImage": true}}`, []string{
			"dev.json: unknown field account (did you mean Account?)", `Account: got "", want a 12-digit AWS account ID (the dev preset's value; set it in`}},
		{"unknown nested field", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true, "ImageTg": "v1"}}`, []string{"dev.json: unknown field Service.ImageTg (did you mean ImageTag?)"}},
		{"string for a number", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true, "MinTasks": "3"}}`, []string{`dev.json: Service.MinTasks: got the string "3", want a whole number`}},
		{"fraction for a whole number", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true, "MinTasks": 2.5}}`, []string{"dev.json: Service.MinTasks: got the number 2.5, want a whole number"}},
		{"number for a string", `{"Account": 111111111111, "Service": {"AllowPlaceholderImage": true}}`, []string{"dev.json: Account: got the number 111111111111, want a string", `Account: got ""`}},
		{"null keeps nothing silently", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true, "ImageTag": null}}`, []string{"dev.json: Service.ImageTag: got null, want a string (leave the field out to keep the preset's value)"}},
		{"list of the wrong type", `{` + ok + `, "Monitoring": {"AlarmEmails": [1]}}`, []string{"dev.json: Monitoring.AlarmEmails[0]: got the number 1, want a string"}},
		{"list of objects of the wrong shape", `{` + ok + `, "Network": {"InternetEgress": [{"CIDR": "0.0.0.0/0", "Port": "443", "Purpose": "APIs"}, "x"]}}`, []string{
			`dev.json: Network.InternetEgress[0].Port: got the string "443", want a whole number`, `dev.json: Network.InternetEgress[1]: got the string "x", want an object`}},
		{"object for a string", `{"Account": {"id": "111111111111"}, "Service": {"AllowPlaceholderImage": true}}`, []string{"dev.json: Account: got an object, want a string", `Account: got ""`}},
		{"string for a section", `{` + ok + `, "Cache": "big"}`, []string{`dev.json: Cache: got the string "big", want an object`}},
		{"environment set in the file", `{` + ok + `, "Environment": "prod"}`, []string{"dev.json: Environment is the file's name"}},
		{"not an object", `["Account"]`, []string{"dev.json: got a list, want a JSON object of Config fields"}},
		{"not JSON", `{"Account": }`, []string{"dev.json:1:13: not valid JSON: invalid character '}' looking for beginning of value"}},
		{"a trailing comma, with its line and column", "{\n  \"Account\": \"111111111111\",\n  \"Service\": {\"AllowPlaceholderImage\": true},\n}\n", []string{
			`dev.json:3:45: not valid JSON: a trailing comma before '}' (JSON allows none)`}},
		{"a file that ends early", `{"Account": "111111111111"`, []string{"dev.json:1:27: not valid JSON: the file ends before the JSON does"}},
		{"two objects", `{` + ok + `} {}`, []string{"dev.json:1:73: not valid JSON: more after the object ends"}},
		{"a key set twice", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true}, "Service": {"AllowPlaceholderImage": true, "Cpu": 256}}`, []string{
			"dev.json: Service is set twice"}},
		{"a nested key set twice", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true, "ImageTag": "v1", "ImageTag": "v2"}}`, []string{
			"dev.json: Service.ImageTag is set twice"}},
		{"decode errors do not hide invalid values", `{"Acount": "1", "Account": "111111111111", "Service": {"AllowPlaceholderImage": true, "MinTasks": "3", "Cpux": 256, "MaxTasks": 500}}`, []string{
			"unknown field Acount", "Service.MinTasks: got the string", "unknown field Service.Cpux (did you mean Cpu?)",
			"dev.json: Service.MaxTasks: got 500, want from Service.MinTasks (1) to 100"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "dev.json"), []byte(tt.file), 0o644))
			_, err := Load(Repository{Dir: dir, Lookups: fixtureRepo(t).Lookups}, "dev", Overrides{})
			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.Len(t, unwrap(err), len(tt.want), "problems reported:\n%s", err)
		})
	}
}

func TestAMissingEnvironmentFileIsAnError(t *testing.T) {
	_, err := Load(Repository{Dir: t.TempDir()}, "prod", Overrides{})
	assert.ErrorContains(t, err, "environment prod:")
	assert.ErrorContains(t, err, "every environment is committed in")
}

// TestAFileSetsWhatItNames: values the file sets win over the preset, zero
// values included; what it leaves out keeps the preset's value.
func TestAFileSetsWhatItNames(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dev.json"), []byte(`{"Account": "111111111111", "Service": {"EnableExec": false, "ImageTag": "v2"}}`), 0o644))
	cfg, err := Load(Repository{Dir: dir, Lookups: fixtureRepo(t).Lookups}, "dev", Overrides{})
	require.NoError(t, err)
	assert.False(t, cfg.Service.EnableExec, "false in the file wins over the preset's true")
	assert.Equal(t, "v2", cfg.Service.ImageTag)
	assert.Equal(t, 8080, cfg.Service.ContainerPort, "left out: the preset's value")
}

// TestPlaceholderImageOnlyWhereTheFileAllowsIt: prod refuses to run the
// placeholder unless its committed file allows it, so a deploy typed
// without -c imageTag can never swap a running image for the placeholder.
func TestPlaceholderImageOnlyWhereTheFileAllowsIt(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prod.json"), []byte(`{
		"Account": "222222222222",
		"LoadBalancer": {"CertificateArn": "arn:aws:acm:eu-west-1:222222222222:certificate/00000000-0000-0000-0000-000000000000"},
		"Monitoring": {"AlarmEmails": ["oncall@example.com"]}
	}`), 0o644))
	repo := Repository{Dir: dir, Lookups: fixtureRepo(t).Lookups}
	_, err := Load(repo, "prod", Overrides{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Service.ImageTag: got "", want the release tag to run: prod does not allow the placeholder image (Service.AllowPlaceholderImage) (the prod preset's value; set it in `+filepath.Join(dir, "prod.json")+")")
	cfg, err := Load(repo, "prod", Overrides{ImageTag: "v1.4.0"})
	require.NoError(t, err, "an explicit one-off override still deploys a release")
	assert.Equal(t, "v1.4.0", cfg.Service.ImageTag)
}

func TestDidYouMean(t *testing.T) {
	names := []string{"env", "account", "imageTag", "amiId"}
	assert.Equal(t, " (did you mean imageTag?)", didYouMean("imagetag", names))
	assert.Equal(t, " (did you mean account?)", didYouMean("acount", names))
	assert.Equal(t, "", didYouMean("region", names), "nothing close")
}

// TestEveryProblemNamesItsSource: a value is reported where it came from,
// the file and field, the -c key, or the preset with the file to set it
// in; values that would only matter with a switch on are refused where the
// file sets them; zones must be ones the committed lookups record.
func TestEveryProblemNamesItsSource(t *testing.T) {
	for _, tt := range []struct {
		name string
		file string // dev.json
		ctx  map[string]any
		want []string
	}{
		{"a bad -c value names -c, not the file", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true}}`, map[string]any{"account": "1"}, []string{
			`-c account (Account): got "1", want a 12-digit AWS account ID`}},
		{"a bad file value names the file", `{"Account": "1", "Service": {"AllowPlaceholderImage": true}}`, nil, []string{
			`dev.json: Account: got "1", want a 12-digit AWS account ID`}},
		{"a preset value names the file to set it in", `{"Account": "111111111111"}`, nil, []string{
			`Service.ImageTag: got "", want the release tag to run: dev does not allow the placeholder image (Service.AllowPlaceholderImage) (the dev preset's value; set it in `}},
		{"a firewall setting while the firewall is off", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true},
			"LoadBalancer": {"Firewall": {"RateLimitPer5Minutes": 500, "CountOnly": ["SQLiRuleSet"]}}, "Monitoring": {"Thresholds": {"FirewallBlockedRequests": 10}}}`, nil, []string{
			"dev.json: LoadBalancer.Firewall.RateLimitPer5Minutes: got 500, want no value: it has no effect while LoadBalancer.Firewall.Enabled is off (remove it, or turn that on)",
			`dev.json: LoadBalancer.Firewall.CountOnly: got ["SQLiRuleSet"], want no value`,
			"dev.json: Monitoring.Thresholds.FirewallBlockedRequests: got 10, want no value"}},
		{"rollout steps of a rolling deployment", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true, "Rollout": {"StepPercent": 20, "BakeMinutes": 3}}}`, nil, []string{
			"dev.json: Service.Rollout.StepPercent: got 20, want no value: it has no effect while Service.Rollout.Strategy ROLLING shifts no traffic in steps",
			"dev.json: Service.Rollout.BakeMinutes: got 3, want no value: it has no effect while Service.Rollout.Strategy ROLLING keeps no old tasks to bake"}},
		{"application buckets without endpoints", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true}, "Network": {"ApplicationBuckets": ["acme-uploads"]}}`, nil, []string{
			`dev.json: Network.ApplicationBuckets: got ["acme-uploads"], want no value: it has no effect while Network.InterfaceEndpoints is off`}},
		{"a lag alarm without replicas, a retired field", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true},
			"Network": {"S3PrefixListId": "pl-12345678"}, "Monitoring": {"Thresholds": {"RedisReplicationLagSeconds": 2}}}`, nil, []string{
			"dev.json: Network.S3PrefixListId was removed: the S3 prefix list follows the region: cdk.context.json records it per account and region, like the zones; delete the key",
			"dev.json: Monitoring.Thresholds.RedisReplicationLagSeconds: got 2, want no value: it has no effect while Cache.Replicas is 0"}},
		{"moved to a region whose S3 prefix list is not recorded", `{"Account": "111111111111", "Region": "eu-central-1", "AvailabilityZones": ["eu-central-1a", "eu-central-1b"],
			"Network": {"InterfaceEndpoints": true}, "Service": {"AllowPlaceholderImage": true}}`, nil, []string{
			"cdk.context.json records no availability zones for account 111111111111 in eu-central-1",
			"cdk.context.json records no S3 prefix list (com.amazonaws.eu-central-1.s3) for account 111111111111 in eu-central-1, which the egress to the S3 gateway endpoint names: run `make lookups ENV=...` with the account's credentials, or add \"cc-api-provider:account=111111111111:"}},
		{"a zone the region does not have", `{"Account": "111111111111", "Service": {"AllowPlaceholderImage": true}, "AvailabilityZones": ["eu-west-1a", "eu-west-1d"]}`, nil, []string{
			`dev.json: AvailabilityZones[1]: got "eu-west-1d", want one of the zones cdk.context.json records for account 111111111111 in eu-west-1: eu-west-1a, eu-west-1b, eu-west-1c`}},
		{"an account and region without recorded zones", `{"Account": "999999999999", "Service": {"AllowPlaceholderImage": true}}`, nil, []string{
			`cdk.context.json records no availability zones for account 999999999999 in eu-west-1, where the stacks are bound: run ` + "`make lookups ENV=dev`" + ` with the account's credentials, or add "availability-zones:account=999999999999:region=eu-west-1": [...]`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "dev.json"), []byte(tt.file), 0o644))
			repo := fixtureRepo(t)
			repo.Dir = dir
			_, err := FromContext(withCDK(t, tt.ctx), repo)
			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.Len(t, unwrap(err), len(tt.want), "problems reported:\n%s", err)
		})
	}
}

// TestTheCDKsContextIsNoBackDoor: feature flags and CDK settings come from
// the committed cdk.json only, lookups from cdk.context.json only, and the
// app's own keys from the command line only.
func TestTheCDKsContextIsNoBackDoor(t *testing.T) {
	for _, tt := range []struct {
		name     string
		ctx      map[string]any
		settings map[string]any // added to cdk.json's context
		lookups  map[string]any // added to cdk.context.json
		want     []string
	}{
		{"a feature flag changed on the command line", map[string]any{"env": "prod", "@aws-cdk/core:validateAgainstDefaultRules": false}, nil, nil, []string{
			"-c @aws-cdk/core:validateAgainstDefaultRules: got false, but cdk.json commits true; change feature flags in cdk.json, reviewed, not on the command line"}},
		{"a feature flag cdk.json does not set", map[string]any{"@aws-cdk/core:defaultCrossStackReferences": "weak"}, nil, nil, []string{
			"-c @aws-cdk/core:defaultCrossStackReferences: cdk.json does not set it; feature flags and CDK settings are committed in cdk.json"}},
		{"a mistyped feature flag", map[string]any{"@aws-cdk/core:validateAgainstDefaultRule": true}, nil, nil, []string{
			"-c @aws-cdk/core:validateAgainstDefaultRule: cdk.json does not set it"}},
		{"failing synthesis on validation errors, which the CLI turns off", map[string]any{"@aws-cdk/core:failSynthOnValidationErrors": true}, nil, nil, []string{
			"-c @aws-cdk/core:failSynthOnValidationErrors: cdk.json does not set it"}},
		{"a prefix-list lookup that found two lists", map[string]any{"env": "prod"}, nil,
			map[string]any{S3PrefixListKey("222222222222", "eu-west-1"): []any{map[string]any{"PrefixListId": "pl-6da54004"}, map[string]any{"PrefixListId": "pl-12345678"}}}, []string{
				`cdk.context.json: ` + S3PrefixListKey("222222222222", "eu-west-1") + `: got [{"PrefixListId":"pl-6da54004"},{"PrefixListId":"pl-12345678"}], want exactly one prefix list with its PrefixListId (pl-...)`}},
		{"a lookup on the command line", map[string]any{"availability-zones:account=111111111111:region=eu-west-1": []any{"eu-west-1a", "eu-west-1d"}}, nil, nil, []string{
			"-c availability-zones:account=111111111111:region=eu-west-1: lookups are read from the committed cdk.context.json"}},
		{"the environment in cdk.json", map[string]any{"env": "prod"}, map[string]any{"env": "prod"}, nil, []string{
			"cdk.json: context.env: the app does not read its settings from cdk.json"}},
		{"an image tag in cdk.context.json", map[string]any{"imageTag": "v1"}, nil, map[string]any{"imageTag": "v1"}, []string{
			"cdk.context.json: imageTag: the file holds only the CDK's cached lookups"}},
		{"something else in cdk.json", nil, map[string]any{"stage": "blue"}, nil, []string{
			"cdk.json: context.stage: not a feature flag or setting of the CDK"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			repo := fixtureRepo(t)
			repo.Settings = merged(repo.Settings, tt.settings)
			repo.Lookups = merged(repo.Lookups, tt.lookups)
			ctx := withCDK(t, merged(merged(tt.settings, tt.lookups), tt.ctx))
			_, err := FromContext(ctx, repo)
			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.Len(t, unwrap(err), len(tt.want), "problems reported:\n%s", err)
		})
	}
}

func merged(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{a, b} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestDeployableRefusesPlaceholders: `make deploy` stops before the CDK
// asks for credentials while the committed file holds a placeholder
// account, naming the file and the field.
func TestDeployableRefusesPlaceholders(t *testing.T) {
	repo := fixtureRepo(t)
	err := Deployable(repo, "prod")
	require.Error(t, err)
	assert.Equal(t, filepath.Join(repo.Dir, "prod.json")+`: Account: got "222222222222", want the 12-digit ID of the AWS account to deploy to: this is a placeholder that only lets the repository synthesize offline (README, first deploy)`, err.Error())

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prod.json"), []byte(`{
		"Account": "123456789012",
		"LoadBalancer": {"CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"},
		"Monitoring": {"AlarmEmails": ["oncall@acme.io"]},
		"Service": {"ImageTag": "v1.0.0"}
	}`), 0o644))
	repo.Dir = dir
	assert.NoError(t, Deployable(repo, "prod"))
	repo.Lookups = nil
	assert.ErrorContains(t, Deployable(repo, "prod"), "cdk.context.json records no availability zones for account 123456789012")
}
