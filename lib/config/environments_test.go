package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cdkOwnContext is what the CLI hands every app besides -c: feature flags,
// its settings and the lookup cache. None of it is an unknown key.
var cdkOwnContext = map[string]any{
	"@aws-cdk/core:validateAgainstDefaultRules":                true,
	"@aws-cdk-containers/ecs-service-extensions:enableDefault": true,
	"aws:cdk:enable-path-metadata":                             true,
	"aws:cdk:version-reporting":                                false,
	"availability-zones:account=111111111111:region=eu-west-1": []any{"eu-west-1a"},
	"acknowledged-issue-numbers":                               []any{32775.0},
}

func withCDK(ctx map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range cdkOwnContext {
		out[k] = v
	}
	for k, v := range ctx {
		out[k] = v
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
			_, err := FromContext(withCDK(tt.ctx), envDir)
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
		got, err := FromContext(withCDK(map[string]any{"env": env}), envDir)
		require.NoError(t, err)
		want, err := Load(envDir, env, Overrides{})
		require.NoError(t, err)
		assert.Equal(t, want, got, env)
	}
}

// TestEnvironmentFileIsDecodedStrictly: a committed file may only set
// fields Config has, with values of their type; whatever the standard
// decoder would skip, guess or ignore is an error naming the file and the
// field.
func TestEnvironmentFileIsDecodedStrictly(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		want       []string
	}{
		{"unknown field", `{"Account": "111111111111", "Acount": "x"}`, []string{"dev.json: unknown field Acount (did you mean Account?)"}},
		{"field in the wrong case", `{"account": "111111111111"}`, []string{"dev.json: unknown field account (did you mean Account?)"}},
		{"unknown nested field", `{"Account": "111111111111", "Service": {"ImageTg": "v1"}}`, []string{"dev.json: unknown field Service.ImageTg (did you mean ImageTag?)"}},
		{"string for a number", `{"Account": "111111111111", "Service": {"MinTasks": "3"}}`, []string{`dev.json: Service.MinTasks: got the string "3", want a whole number`}},
		{"fraction for a whole number", `{"Account": "111111111111", "Service": {"MinTasks": 2.5}}`, []string{"dev.json: Service.MinTasks: got the number 2.5, want a whole number"}},
		{"number for a string", `{"Account": 111111111111}`, []string{"dev.json: Account: got the number 111111111111, want a string"}},
		{"null keeps nothing silently", `{"Account": "111111111111", "Service": {"ImageTag": null}}`, []string{"dev.json: Service.ImageTag: got null, want a string (leave the field out to keep the preset's value)"}},
		{"list of the wrong type", `{"Account": "111111111111", "Monitoring": {"AlarmEmails": [1]}}`, []string{"dev.json: Monitoring.AlarmEmails[0]: got the number 1, want a string"}},
		{"object for a string", `{"Account": {"id": "111111111111"}}`, []string{"dev.json: Account: got an object, want a string"}},
		{"environment set in the file", `{"Account": "111111111111", "Environment": "prod"}`, []string{"dev.json: Environment is the file's name"}},
		{"not an object", `["Account"]`, []string{"dev.json: got a list, want a JSON object of Config fields"}},
		{"not JSON", `{"Account": }`, []string{"dev.json: not valid JSON"}},
		{"a key set twice", `{"Account": "111111111111", "Service": {"ImageTag": "v1"}, "Service": {"Cpu": 256}}`, []string{
			"dev.json: Service is set twice"}},
		{"a nested key set twice", `{"Account": "111111111111", "Service": {"ImageTag": "v1", "ImageTag": "v2"}}`, []string{
			"dev.json: Service.ImageTag is set twice"}},
		{"several problems at once", `{"Acount": "1", "Service": {"MinTasks": "3", "Cpux": 256}}`, []string{
			"unknown field Acount", "Service.MinTasks: got the string", "unknown field Service.Cpux (did you mean Cpu?)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "dev.json"), []byte(tt.file), 0o644))
			_, err := Load(dir, "dev", Overrides{})
			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.Len(t, unwrap(err), len(tt.want), "problems reported:\n%s", err)
		})
	}
}

func TestAMissingEnvironmentFileIsAnError(t *testing.T) {
	_, err := Load(t.TempDir(), "prod", Overrides{})
	assert.ErrorContains(t, err, "environment prod:")
	assert.ErrorContains(t, err, "every environment is committed in")
}

// TestAFileSetsWhatItNames: values the file sets win over the preset, zero
// values included; what it leaves out keeps the preset's value.
func TestAFileSetsWhatItNames(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dev.json"), []byte(`{"Account": "111111111111", "Service": {"EnableExec": false, "ImageTag": "v2"}}`), 0o644))
	cfg, err := Load(dir, "dev", Overrides{})
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
	_, err := Load(dir, "prod", Overrides{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Service.ImageTag: got "", want the release tag to run: prod does not allow the placeholder image (Service.AllowPlaceholderImage); commit the tag in environments/prod.json`)
	cfg, err := Load(dir, "prod", Overrides{ImageTag: "v1.4.0"})
	require.NoError(t, err, "an explicit one-off override still deploys a release")
	assert.Equal(t, "v1.4.0", cfg.Service.ImageTag)
}

func TestDidYouMean(t *testing.T) {
	names := []string{"env", "account", "imageTag", "amiId"}
	assert.Equal(t, " (did you mean imageTag?)", didYouMean("imagetag", names))
	assert.Equal(t, " (did you mean account?)", didYouMean("acount", names))
	assert.Equal(t, "", didYouMean("region", names), "nothing close")
}
