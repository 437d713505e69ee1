package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Repository is the committed state a configuration comes from besides the
// presets: the environment files, the CDK's settings in cdk.json and its
// cached lookups in cdk.context.json. The app's context must agree with
// it: what a deploy runs is what review saw.
type Repository struct {
	// Dir holds the environment files, ENV.json.
	Dir string
	// Settings is the "context" object of cdk.json: feature flags and CDK
	// settings.
	Settings map[string]any
	// Lookups is cdk.context.json: the results of the CDK's context
	// lookups, such as the availability zones of an account and region.
	Lookups map[string]any
}

// ReadRepository reads the committed state of the repository at root.
func ReadRepository(root string) (Repository, error) {
	repo := Repository{Dir: filepath.Join(root, Dir)}
	var errs []error
	for _, f := range []struct {
		name string
		into *map[string]any
	}{{"cdk.json", &repo.Settings}, {"cdk.context.json", &repo.Lookups}} {
		raw, err := os.ReadFile(filepath.Join(root, f.name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
			continue
		}
		if f.name == "cdk.json" {
			doc, _ = doc["context"].(map[string]any)
		}
		*f.into = doc
	}
	return repo, errors.Join(errs...)
}

// contextKeys are the -c KEY=VALUE overrides the app knows, each with the
// config field it sets. They are for one-off overrides; what an
// environment runs is committed in its file.
var contextKeys = []struct {
	key, field string
	set        func(*Overrides, string)
}{
	{"env", "the environment (a file in " + Dir + "/)", nil},
	{"account", "Account", func(o *Overrides, v string) { o.Account = v }},
	{"certificateArn", "LoadBalancer.CertificateArn", func(o *Overrides, v string) { o.CertificateArn = v }},
	{"imageTag", "Service.ImageTag", func(o *Overrides, v string) { o.ImageTag = v }},
	{"amiId", "Cluster.AmiID", func(o *Overrides, v string) { o.AmiID = v }},
	{"alarmEmails", "Monitoring.AlarmEmails", func(o *Overrides, v string) { o.AlarmEmails = strings.Split(v, ",") }},
	{FirstCreateKey, "the stacks this deploy creates (make deploy sets it)", nil},
}

// FirstCreateKey is the context key (-c firstCreate=Database,LoadBalancer)
// with which `make deploy` names the stacks that do not exist yet in the
// account: they are created without termination and deletion protection,
// so that a create that fails rolls back cleanly and a second deploy can
// retry it; the deploy then turns the protections on in a second pass.
const FirstCreateKey = "firstCreate"

// StackIDs are the platform's stacks, by construct ID.
var StackIDs = []string{"Network", "Secrets", "Registry", "Alerts", "Database", "Cache", "Cluster", "LoadBalancer", "Service", "Monitoring"}

// StackName is the CloudFormation name of stack id in the deployment cfg
// describes ("webapp-prod-loadbalancer").
func (c Config) StackName(id string) string {
	return c.AppName + "-" + c.Environment + "-" + strings.ToLower(id)
}

// FirstCreate returns the stacks -c firstCreate names, or why they are not
// stacks of the platform.
func FirstCreate(ctx map[string]any) ([]string, error) {
	v, ok := ctx[FirstCreateKey]
	if !ok {
		return nil, nil
	}
	s, isString := v.(string)
	if !isString || s == "" {
		return nil, fmt.Errorf("-c %s: got %s, want stack IDs separated by commas (%s)", FirstCreateKey, jsonText(v), strings.Join(StackIDs, ", "))
	}
	ids := strings.Split(s, ",")
	for _, id := range ids {
		if !slices.Contains(StackIDs, id) {
			return nil, fmt.Errorf("-c %s: %q is not a stack of the platform (%s)", FirstCreateKey, id, strings.Join(StackIDs, ", "))
		}
	}
	return ids, nil
}

func appKeys() []string {
	keys := make([]string, len(contextKeys))
	for i, k := range contextKeys {
		keys[i] = k.key
	}
	return keys
}

var (
	// lookupKey matches what the CDK caches in cdk.context.json:
	// availability-zones:account=...:region=..., ssm:..., ami:... .
	lookupKey = regexp.MustCompile(`^[a-z0-9-]+:.*=`)
	// settingKey matches the CDK's feature flags (@aws-cdk/...,
	// @aws-cdk-containers/...) and its settings committed in cdk.json.
	settingKey = regexp.MustCompile(`^(@[a-z0-9-]+/|cdk-)|^acknowledged-issue-numbers$`)
)

// cliSetting reports whether key is one the CDK CLI sets from its own
// options on every run (--no-path-metadata, --no-version-reporting, ...).
// The CLI also hands every app failSynthOnValidationErrors=false, so that
// it reports the validator's findings itself (aws-cdk CLI 2.1148.1,
// contextFromSettings); that value only, since true would come from -c.
func cliSetting(key string, value any) bool {
	return strings.HasPrefix(key, "aws:cdk:") || (key == "@aws-cdk/core:failSynthOnValidationErrors" && value == false)
}

// checkCommitted refuses what the committed CDK files must not hold: the
// app's own settings anywhere but -c, and anything but lookups in
// cdk.context.json.
func (r Repository) checkCommitted() []error {
	var errs []error
	for _, key := range sortedKeys(r.Settings) {
		switch {
		case slices.Contains(appKeys(), key):
			errs = append(errs, fmt.Errorf("cdk.json: context.%s: the app does not read its settings from cdk.json, where every synthesis would apply them silently; commit them in %s/ENV.json, or pass -c %s=... for a one-off", key, Dir, key))
		case !settingKey.MatchString(key) && !lookupKey.MatchString(key):
			errs = append(errs, fmt.Errorf("cdk.json: context.%s: not a feature flag or setting of the CDK", key))
		}
	}
	for _, key := range sortedKeys(r.Lookups) {
		if !lookupKey.MatchString(key) {
			errs = append(errs, fmt.Errorf("cdk.context.json: %s: the file holds only the CDK's cached lookups (KIND:account=...:region=...); feature flags belong in cdk.json, the app's settings in %s/ENV.json", key, Dir))
		}
	}
	return errs
}

// FromContext returns the validated configuration the app's context
// selects: the environment file ENV.json of repo (ENV from -c env, default
// dev) on top of its preset, then the -c overrides. The context must agree
// with what is committed: feature flags and CDK settings come from
// cdk.json, lookups from cdk.context.json, and only the app's own keys
// from the command line. It reports every problem at once.
func FromContext(ctx map[string]any, repo Repository) (Config, error) {
	errs := repo.checkCommitted()
	env := DefaultEnvironment
	var o Overrides
	known := appKeys()
	for _, key := range sortedKeys(ctx) {
		value := ctx[key]
		switch {
		case cliSetting(key, value):
			continue
		case settingKey.MatchString(key):
			committed, ok := repo.Settings[key]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("-c %s: cdk.json does not set it; feature flags and CDK settings are committed in cdk.json, so every synthesis applies them (is it mistyped?)", key))
			case !reflect.DeepEqual(committed, value):
				errs = append(errs, fmt.Errorf("-c %s: got %s, but cdk.json commits %s; change feature flags in cdk.json, reviewed, not on the command line", key, jsonText(value), jsonText(committed)))
			}
			continue
		case lookupKey.MatchString(key):
			if committed, ok := repo.Lookups[key]; !ok || !reflect.DeepEqual(committed, value) {
				errs = append(errs, fmt.Errorf("-c %s: lookups are read from the committed cdk.context.json, which does not hold this value; commit it there", key))
			}
			continue
		}
		if _, committed := repo.Settings[key]; committed {
			continue // checkCommitted reports it
		}
		if _, committed := repo.Lookups[key]; committed {
			continue // checkCommitted reports it
		}
		i := slices.Index(known, key)
		if i < 0 {
			errs = append(errs, fmt.Errorf("-c %s: unknown context key%s; the app knows %s", key, didYouMean(key, known), strings.Join(known, ", ")))
			continue
		}
		s, ok := value.(string)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("-c %s (%s): got %v (%T), want a string", key, contextKeys[i].field, value, value))
		case key == "env":
			env = s
		case key == FirstCreateKey:
			if _, err := FirstCreate(ctx); err != nil {
				errs = append(errs, err)
			}
		case s == "":
			errs = append(errs, fmt.Errorf("-c %s: got an empty value; leave the key out to keep what the environment's file says", key))
		default:
			contextKeys[i].set(&o, s)
		}
	}
	if env == "" {
		errs = append(errs, fmt.Errorf("-c env: got an empty name, want one of %s", strings.Join(Names(), ", ")))
		return Config{}, errors.Join(errs...)
	}
	cfg, err := Load(repo, env, o)
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return cfg, errors.Join(append(errs, joined.Unwrap()...)...)
	}
	return cfg, errors.Join(append(errs, err)...)
}

func jsonText(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// ZonesKey is the cdk.context.json key under which the CDK caches the
// availability zones of an account and region.
func ZonesKey(account, region string) string {
	return fmt.Sprintf("availability-zones:account=%s:region=%s", account, region)
}

// validateZonesIn checks the configured zones against the zones the
// committed lookups record for the account and region: the VPC can only
// span zones the region has, and synthesis offline needs them recorded.
func (c Config) validateZonesIn(v *validator, lookups map[string]any) {
	if !accountPattern.MatchString(c.Account) || !regionPattern.MatchString(c.Region) {
		return // Validate reports those
	}
	key := ZonesKey(c.Account, c.Region)
	recorded, ok := lookups[key].([]any)
	if !ok {
		v.errs = append(v.errs, fmt.Errorf("cdk.context.json records no availability zones for account %s in %s, where the stacks are bound: "+
			"run `make lookups ENV=%s` with the account's credentials, or add \"%s\": [...] with the zone names "+
			"`aws ec2 describe-availability-zones --region %s --query 'AvailabilityZones[].ZoneName'` prints in that account",
			c.Account, c.Region, c.Environment, key, c.Region))
		return
	}
	var zones []string
	for _, z := range recorded {
		zones = append(zones, fmt.Sprint(z))
	}
	for i, az := range c.AvailabilityZones {
		v.check(slices.Contains(zones, az), fmt.Sprintf("AvailabilityZones[%d]", i), az,
			fmt.Sprintf("one of the zones cdk.context.json records for account %s in %s: %s", c.Account, c.Region, strings.Join(zones, ", ")))
	}
}

// S3PrefixListName is the name of the AWS-managed prefix list of S3 in a
// region (VPC User Guide, AWS-managed prefix lists); its ID differs per
// region.
func S3PrefixListName(region string) string { return "com.amazonaws." + region + ".s3" }

// S3PrefixListKey is the cdk.context.json key under which the CDK caches
// the lookup of that prefix list (awsec2.PrefixList_FromLookup, the Cloud
// Control context provider), for an account and region.
func S3PrefixListKey(account, region string) string {
	return fmt.Sprintf("cc-api-provider:account=%s:expectedMatchCount=exactly-one:propertiesToReturn.0=PrefixListId:"+
		"propertyMatch.PrefixListName=%s:region=%s:typeName=AWS$:$:EC2$:$:PrefixList", account, S3PrefixListName(region), region)
}

// S3PrefixList returns the ID of the S3 prefix list that lookups record
// for account and region, or why there is none.
func S3PrefixList(lookups map[string]any, account, region string) (string, error) {
	key := S3PrefixListKey(account, region)
	how := fmt.Sprintf("run `make lookups ENV=...` with the account's credentials, or add \"%s\": [{\"PrefixListId\": \"pl-...\", \"Identifier\": \"pl-...\"}] with the ID "+
		"`aws ec2 describe-managed-prefix-lists --region %s --filters Name=prefix-list-name,Values=%s --query 'PrefixLists[].PrefixListId'` prints in that account",
		key, region, S3PrefixListName(region))
	recorded, ok := lookups[key]
	if !ok {
		return "", fmt.Errorf("cdk.context.json records no S3 prefix list (%s) for account %s in %s, which the egress to the S3 gateway endpoint names: %s",
			S3PrefixListName(region), account, region, how)
	}
	list := cfnList(recorded)
	var id string
	if len(list) == 1 {
		id, _ = cfnObject(list[0])["PrefixListId"].(string)
	}
	if !prefixListID.MatchString(id) {
		return "", fmt.Errorf("cdk.context.json: %s: got %s, want exactly one prefix list with its PrefixListId (pl-...): %s", key, jsonText(recorded), how)
	}
	return id, nil
}

// validatePrefixListIn checks that the lookups record the S3 prefix list
// of the stacks' account and region wherever the network closes egress to
// the endpoints and S3: a region without a recorded list is an error, not
// another region's ID.
func (c Config) validatePrefixListIn(v *validator, lookups map[string]any) {
	if !c.Network.InterfaceEndpoints || !accountPattern.MatchString(c.Account) || !regionPattern.MatchString(c.Region) {
		return
	}
	if _, err := S3PrefixList(lookups, c.Account, c.Region); err != nil {
		v.errs = append(v.errs, err)
	}
}

func cfnList(v any) []any {
	l, _ := v.([]any)
	return l
}

func cfnObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// Deployable reports why environment env, as committed in repo, cannot be
// deployed yet: any problem Load finds, or an account that is one of the
// placeholders offline synthesis runs on. `make deploy` checks it before the
// CDK looks for credentials, so the answer names the file and the field.
func Deployable(repo Repository, env string) error {
	cfg, err := Load(repo, env, Overrides{})
	if err != nil {
		return err
	}
	if !cfg.RealAccount() {
		return &FieldError{Field: "Account", Value: cfg.Account, Source: filepath.Join(repo.Dir, env+".json"),
			Allowed: "the 12-digit ID of the AWS account to deploy to: this is a placeholder that only lets the repository synthesize offline (README, first deploy)"}
	}
	return errors.Join(repo.checkCommitted()...)
}
