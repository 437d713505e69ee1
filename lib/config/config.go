// Package config holds the single configuration type of the platform, its
// per-environment presets and its validation. It has no CDK dependency, so it
// can be loaded and checked before any construct exists.
package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
)

// DefaultEnvironment is the preset used when no -c env=NAME is given.
const DefaultEnvironment = "dev"

// Config describes one deployment of the platform. Every field has a default
// set by the preset of its environment (see Presets); the README's
// configuration table is checked against this type by a test.
type Config struct {
	// Environment names the deployment ("dev", "prod"); it goes into stack
	// names and tags. Default: the preset's name.
	Environment string
	// AppName names the application in stack names and tags: 2-20 lowercase
	// letters, digits or hyphens, starting with a letter. Default "webapp".
	AppName string
	// Account is the 12-digit AWS account the stacks are bound to, set in
	// the environment's file. The committed files carry placeholders
	// (PlaceholderAccounts) until a real account is configured. Default "".
	Account string
	// Region is the AWS region the stacks are bound to. Default "eu-west-1".
	Region string
	// AvailabilityZones lists 2 or 3 zones of Region that the subnets span.
	// Default: 2 zones in dev, 3 in prod.
	AvailabilityZones []string
	// Network configures the VPC.
	Network Network
	// Service configures the application service as far as the network policy
	// and capacity planning need it.
	Service Service
	// Cluster configures the ECS container instances.
	Cluster Cluster
	// Database configures RDS PostgreSQL.
	Database Database
	// Cache configures ElastiCache Redis.
	Cache Cache
	// Registry configures the ECR repository.
	Registry Registry
	// LoadBalancer configures the ALB.
	LoadBalancer LoadBalancer
	// Monitoring configures alarms, their thresholds and notifications.
	Monitoring Monitoring
	// TerminationProtection protects every stack from `cdk destroy`; each
	// environment promises its value (presets.go). Default: false in dev,
	// true in prod.
	TerminationProtection bool
	// RetainData keeps stateful resources (keys, secrets, log groups,
	// repository, access-log bucket, database and cache groups; the cache
	// keeps a final snapshot) when they leave the template or their stack is
	// deleted. Default: false in dev (everything is destroyed with the
	// stack), true in prod. Each environment promises its value.
	RetainData bool
}

// PlaceholderAccounts are the accounts of the presets' committed files.
// They make offline synthesis and the tests work and are never deployed
// to: once Account is any other account, Validate refuses the presets'
// other placeholders too (the all-zero certificate, e-mail addresses at
// reserved example domains), and `make deploy` refuses these.
var PlaceholderAccounts = []string{"111111111111", "222222222222"}

// PlaceholderCertificateID is the certificate ID of the prod file's
// placeholder ARN.
const PlaceholderCertificateID = "00000000-0000-0000-0000-000000000000"

// RealAccount reports whether Account is one a deploy can reach, not one of
// PlaceholderAccounts.
func (c Config) RealAccount() bool { return !slices.Contains(PlaceholderAccounts, c.Account) }

// Names returns the known environment names in sorted order.
func Names() []string {
	names := make([]string, 0, 2)
	for name := range Presets() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Overrides are the values a user may set on the command line with -c KEY=VALUE
// for a one-off, on top of the committed environment file. Empty fields
// leave the file's value alone.
type Overrides struct {
	// Account replaces Account (-c account=ID).
	Account string
	// CertificateArn replaces LoadBalancer.CertificateArn (-c certificateArn=ARN).
	CertificateArn string
	// ImageTag replaces Service.ImageTag (-c imageTag=TAG).
	ImageTag string
	// AmiID replaces Cluster.AmiID (-c amiId=ami-...).
	AmiID string
	// AlarmEmails replaces Monitoring.AlarmEmails
	// (-c alarmEmails=a@example.com,b@example.com).
	AlarmEmails []string
}

// apply sets the overrides on cfg and records them in set as "-c KEY".
func (o Overrides) apply(cfg *Config, set origins) {
	for _, o := range []struct {
		key, field string
		value      string
		target     *string
	}{
		{"account", "Account", o.Account, &cfg.Account},
		{"certificateArn", "LoadBalancer.CertificateArn", o.CertificateArn, &cfg.LoadBalancer.CertificateArn},
		{"imageTag", "Service.ImageTag", o.ImageTag, &cfg.Service.ImageTag},
		{"amiId", "Cluster.AmiID", o.AmiID, &cfg.Cluster.AmiID},
	} {
		if o.value != "" {
			*o.target = o.value
			set[o.field] = "-c " + o.key
		}
	}
	if len(o.AlarmEmails) > 0 {
		cfg.Monitoring.AlarmEmails = o.AlarmEmails
		set["Monitoring.AlarmEmails"] = "-c alarmEmails"
	}
}

// Load returns the validated configuration of the named environment: its
// preset, its committed file in repo.Dir, then the overrides. The error
// lists every problem at once, each naming where the value came from: the
// file and field, the -c key, or the preset.
func Load(repo Repository, env string, o Overrides) (Config, error) {
	cfg, set, errs, ok := loadEnvironment(repo.Dir, env)
	if !ok {
		return Config{}, errors.Join(errs...)
	}
	o.apply(&cfg, set)
	v := &validator{}
	cfg.validate(v)
	cfg.validateZonesIn(v, repo.Lookups)
	cfg.validatePrefixListIn(v, repo.Lookups)
	cfg.validateInert(v, set)
	for _, e := range v.errs {
		var fe *FieldError
		if errors.As(e, &fe) {
			fe.Source = set.of(fe.Field)
			if fe.Source == "" {
				fe.Preset = fmt.Sprintf("the %s preset's value; set it in %s", env, filepath.Join(repo.Dir, env+".json"))
			}
		}
	}
	return cfg, errors.Join(append(errs, v.errs...)...)
}
