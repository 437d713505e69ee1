package config

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The repository refreshes its generated files with `go test ./... -update`;
// this package has none, but its test binary must accept the flag.
var _ = flag.Bool("update", false, "no generated files in this package")

// fixtureRoot is the repository as it first ships (testdata/fixture): the
// committed environments/ are the users' state, and no test depends on
// their values.
var fixtureRoot = filepath.Join("..", "..", "testdata", "fixture")

// cdkSettings stands for cdk.json's context: the feature flags and settings
// the CLI hands the app from it.
var cdkSettings = map[string]any{
	"@aws-cdk/core:validateAgainstDefaultRules":                true,
	"@aws-cdk-containers/ecs-service-extensions:enableDefault": true,
	"acknowledged-issue-numbers":                               []any{32775.0},
}

// realAccount stands for an account a deploy reaches.
const realAccount = "123456789012"

// fixtureRepo is the fixture's committed state, with the zones of
// realAccount recorded as a first real deploy records them.
func fixtureRepo(t *testing.T) Repository {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtureRoot, "cdk.context.json"))
	require.NoError(t, err)
	var lookups map[string]any
	require.NoError(t, json.Unmarshal(raw, &lookups))
	lookups[ZonesKey(realAccount, "eu-west-1")] = []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"}
	lookups[S3PrefixListKey(realAccount, "eu-west-1")] = []any{map[string]any{"PrefixListId": "pl-6da54004", "Identifier": "pl-6da54004"}}
	return Repository{Dir: filepath.Join(fixtureRoot, Dir), Settings: cdkSettings, Lookups: lookups}
}

// fixture is an environment of the fixture (preset and file), not yet
// validated, for tests that change it in one way.
func fixture(t *testing.T, env string) Config {
	t.Helper()
	cfg, _, errs, ok := loadEnvironment(fixtureRepo(t).Dir, env)
	require.True(t, ok)
	require.Empty(t, errs)
	return cfg
}

func TestFixtureIsValid(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(fixtureRepo(t), name, Overrides{})
			require.NoError(t, err)
			assert.Equal(t, name, cfg.Environment)
		})
	}
}

// TestCommittedEnvironmentsAreValid: whatever the users committed must
// validate, or nothing deploys.
func TestCommittedEnvironmentsAreValid(t *testing.T) {
	repo, err := ReadRepository(filepath.Join("..", ".."))
	require.NoError(t, err)
	for _, name := range Names() {
		_, err := Load(repo, name, Overrides{})
		assert.NoError(t, err, name)
	}
}

func TestLoadDefaultsToDev(t *testing.T) {
	cfg, err := FromContext(withCDK(t, map[string]any{}), fixtureRepo(t))
	require.NoError(t, err)
	assert.Equal(t, "dev", cfg.Environment)
}

func TestLoadUnknownEnvironmentListsKnownOnes(t *testing.T) {
	_, err := Load(fixtureRepo(t), "staging", Overrides{})
	require.Error(t, err)
	assert.Equal(t, `-c env: got "staging", want one of dev, prod`, err.Error())
}

func TestLoadAppliesOverrides(t *testing.T) {
	cfg, err := Load(fixtureRepo(t), "dev", Overrides{ImageTag: "v1.2.3", AmiID: "ami-0123456789abcdef0", CertificateArn: "arn:aws:acm:eu-west-1:111111111111:certificate/11111111-2222-3333-4444-555555555555", AlarmEmails: []string{"oncall@example.com"}})
	require.NoError(t, err)
	assert.Equal(t, "v1.2.3", cfg.Service.ImageTag)
	assert.Equal(t, "ami-0123456789abcdef0", cfg.Cluster.AmiID)
	assert.Equal(t, "arn:aws:acm:eu-west-1:111111111111:certificate/11111111-2222-3333-4444-555555555555", cfg.LoadBalancer.CertificateArn)
	assert.Equal(t, []string{"oncall@example.com"}, cfg.Monitoring.AlarmEmails)
}

func TestLoadAppliesAccountOverride(t *testing.T) {
	cfg, err := Load(fixtureRepo(t), "prod", Overrides{
		Account:        "123456789012",
		CertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
		AlarmEmails:    []string{"oncall@acme.io"},
	})
	require.NoError(t, err)
	assert.Equal(t, "123456789012", cfg.Account)
	_, err = Load(fixtureRepo(t), "prod", Overrides{Account: "12345"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `-c account (Account): got "12345"`)
}

// TestRealAccountRefusesThePresetsPlaceholders is the deploy of prod into a
// real account that forgot the certificate and the alarm addresses: the
// placeholders that make offline synthesis work must not reach it.
func TestRealAccountRefusesThePresetsPlaceholders(t *testing.T) {
	repo := fixtureRepo(t)
	_, err := Load(repo, "prod", Overrides{Account: "123456789012"})
	require.Error(t, err)
	file := filepath.Join(repo.Dir, "prod.json")
	assert.Contains(t, err.Error(), file+`: LoadBalancer.CertificateArn: got "arn:aws:acm:eu-west-1:222222222222:certificate/00000000-0000-0000-0000-000000000000", want a certificate of the stacks' account 123456789012`)
	assert.Contains(t, err.Error(), file+`: Monitoring.AlarmEmails[0]: got "oncall@example.com", want a real address`)
	assert.Len(t, unwrap(err), 2, "got:\n%s", err)
}

// TestValidateRejects changes a valid preset in one way (or several) and
// expects exactly the named fields to be reported, each with its value.
func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		env    string
		mutate func(*Config)
		want   []string // substrings, one per expected problem
	}{
		{"malformed VPC CIDR", "dev", func(c *Config) { c.Network.VpcCidr = "10.10.0.0/33" }, []string{`Network.VpcCidr: got "10.10.0.0/33"`}},
		{"VPC CIDR with host bits", "dev", func(c *Config) { c.Network.VpcCidr = "10.10.1.0/16" }, []string{`Network.VpcCidr: got "10.10.1.0/16", want an IPv4 network address`}},
		{"public VPC CIDR", "dev", func(c *Config) { c.Network.VpcCidr = "8.8.0.0/16" }, []string{`Network.VpcCidr: got "8.8.0.0/16", want a private (RFC 1918) range`}},
		{"VPC CIDR too large", "dev", func(c *Config) { c.Network.VpcCidr = "172.16.0.0/12" }, []string{`Network.VpcCidr: got "172.16.0.0/12", want a prefix length from /16 to /24`}},
		{"VPC CIDR inside the Docker bridge", "dev", func(c *Config) { c.Network.VpcCidr = "172.17.0.0/20" }, []string{`Network.VpcCidr: got "172.17.0.0/20", want a range that does not overlap the Docker bridge`}},
		{"IPv6 VPC CIDR", "dev", func(c *Config) { c.Network.VpcCidr = "fd00::/56" }, []string{`Network.VpcCidr: got "fd00::/56", want an IPv4 network address`}},
		{"subnets do not fit the VPC", "prod", func(c *Config) { c.Network.VpcCidr = "10.20.0.0/21"; c.Network.PrivateSubnetMask = 22 }, []string{`Network.VpcCidr: got "10.20.0.0/21", want room for 3 public /24 and 3 private /22 subnets (3840 addresses, the block has 2048)`}},
		{"subnet larger than the VPC", "dev", func(c *Config) { c.Network.VpcCidr = "10.10.0.0/24"; c.Network.PrivateSubnetMask = 20 }, []string{"Network.PrivateSubnetMask: got 20, want a subnet no larger than the VPC (/24 or longer)"}},
		{"subnet mask too long", "dev", func(c *Config) { c.Network.PublicSubnetMask = 29 }, []string{"Network.PublicSubnetMask: got 29, want a prefix length from 16 to 28"}},
		{"one availability zone", "dev", func(c *Config) { c.AvailabilityZones = []string{"eu-west-1a"} }, []string{`AvailabilityZones: got ["eu-west-1a"], want 2 or 3 availability zones`}},
		{"four availability zones", "prod", func(c *Config) {
			c.AvailabilityZones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"}
		}, []string{`AvailabilityZones: got ["eu-west-1a" "eu-west-1b" "eu-west-1c" "eu-west-1d"], want 2 or 3 availability zones`}},
		{"zone of another region", "dev", func(c *Config) { c.AvailabilityZones = []string{"eu-west-1a", "us-east-1b"} }, []string{`AvailabilityZones[1]: got "us-east-1b", want a zone of region eu-west-1`}},
		{"zone listed twice", "dev", func(c *Config) { c.AvailabilityZones = []string{"eu-west-1a", "eu-west-1a"} }, []string{`AvailabilityZones[1]: got "eu-west-1a", want each zone listed once`}},
		{"no NAT gateway", "dev", func(c *Config) { c.Network.NatGateways = 0 }, []string{"Network.NatGateways: got 0, want from 1 to the number of availability zones (2)"}},
		{"more NAT gateways than zones", "prod", func(c *Config) { c.Network.NatGateways = 4 }, []string{"Network.NatGateways: got 4, want from 1 to the number of availability zones (3)"}},
		{"flow log retention CloudWatch rejects", "dev", func(c *Config) { c.Network.FlowLogRetentionDays = 10 }, []string{"Network.FlowLogRetentionDays: got 10, want one of"}},
		{"empty app name", "dev", func(c *Config) { c.AppName = "" }, []string{`AppName: got ""`}},
		{"app name with capitals", "dev", func(c *Config) { c.AppName = "WebApp" }, []string{`AppName: got "WebApp"`}},
		{"invalid environment name", "dev", func(c *Config) { c.Environment = "dev_1" }, []string{`Environment: got "dev_1"`}},
		{"short account", "dev", func(c *Config) { c.Account = "1234" }, []string{`Account: got "1234", want a 12-digit AWS account ID`}},
		{"malformed region", "dev", func(c *Config) { c.Region = "europe"; c.AvailabilityZones = []string{"europea", "europeb"} }, []string{`Region: got "europe"`}},
		{"privileged container port", "dev", func(c *Config) { c.Service.ContainerPort = 80 }, []string{"Service.ContainerPort: got 80, want an unprivileged port"}},
		{"container port of the database", "dev", func(c *Config) { c.Service.ContainerPort = 5432 }, []string{"Service.ContainerPort: got 5432"}},
		{"container port out of range", "dev", func(c *Config) { c.Service.ContainerPort = 70000 }, []string{"Service.ContainerPort: got 70000"}},
		{"min tasks above max tasks", "prod", func(c *Config) { c.Service.MinTasks = 5; c.Service.MaxTasks = 4 }, []string{"Service.MaxTasks: got 4, want from Service.MinTasks (5) to 100"}},
		{"zero tasks", "dev", func(c *Config) { c.Service.MinTasks = 0 }, []string{"Service.MinTasks: got 0, want from 1 to 100"}},
		{"a container that runs as root", "prod", func(c *Config) { c.Service.User = "0:0" }, []string{`Service.User: got "0:0", want a user other than root`}},
		{"root by name", "dev", func(c *Config) { c.Service.User = "root" }, []string{`Service.User: got "root"`}},
		{"a scratch tmpfs as large as the container", "dev", func(c *Config) { c.Service.ScratchMiB = 512 }, []string{
			"Service.ScratchMiB: got 512, want from 1 to 1024 MiB and less than Service.MemoryMiB (512)"}},
		{"an application bucket that is not a bucket name", "prod", func(c *Config) { c.Network.ApplicationBuckets = []string{"My_Bucket"} }, []string{
			`Network.ApplicationBuckets[0]: got "My_Bucket", want an S3 bucket name`}},
		// Capacity: what the instances can hold (capacity.go).
		{"task CPU larger than the instance", "dev", func(c *Config) { c.Service.Cpu = 4096 }, []string{
			"Service.Cpu: got 4096, want at most 2048 CPU units, what a t3.medium (Cluster.InstanceType, 2 vCPUs) registers"}},
		{"task memory larger than the instance leaves", "dev", func(c *Config) { c.Service.MemoryMiB = 4096 }, []string{
			"Service.MemoryMiB: got 4096, want at most 3891 MiB, what a t3.medium (Cluster.InstanceType, 4096 MiB installed) leaves tasks after 5% for the kernel and the ECS agent"}},
		{"more tasks than one instance can ever hold", "dev", func(c *Config) {
			c.Service.MinTasks, c.Service.MaxTasks = 4, 4
			c.Cluster.MaxInstances = 1
		}, []string{
			"Cluster.MinInstances: got 1, want at least 2 to hold Service.MinTasks (4) at 2 tasks per t3.medium (by network interfaces 2",
			"Cluster.MaxInstances: got 1, want at least 3: a ROLLING deployment at Service.MaxTasks (4) starts a new task before it stops an old one: 5 tasks"}},
		{"a canary without room for two revisions and a replacement", "prod", func(c *Config) { c.Cluster.MaxInstances = 12 }, []string{
			"Cluster.MaxInstances: got 12, want at least 13: a CANARY deployment at Service.MaxTasks (12) runs both revisions until the bake ends: 24 tasks, with one instance to spare for a replacement, at 2 tasks per m6i.large (by network interfaces 2"}},
		{"memory, not interfaces, bounds a large task", "prod", func(c *Config) { c.Service.MemoryMiB = 4096; c.Service.MaxTasks = 7 }, []string{
			"Cluster.MaxInstances: got 13, want at least 15: a CANARY deployment at Service.MaxTasks (7) runs both revisions until the bake ends: 14 tasks, with one instance to spare for a replacement, at 1 tasks per m6i.large (by network interfaces 2: awsvpc gives each task one and the instance keeps one; by CPU 4; by memory 1)"}},
		{"min instances above max instances", "dev", func(c *Config) { c.Cluster.MinInstances = 4; c.Cluster.MaxInstances = 3 }, []string{"Cluster.MaxInstances: got 3, want from Cluster.MinInstances (4, at least 1) to 100"}},
		{"negative instances", "dev", func(c *Config) { c.Cluster.MinInstances = -1 }, []string{"Cluster.MinInstances: got -1, want from 0 to 100"}},
		{"PostgreSQL minor RDS no longer creates", "dev", func(c *Config) { c.Database.EngineVersion = "16.6" }, []string{`Database.EngineVersion: got "16.6", want the major version 16 alone, or 16.11-16.13: RDS no longer creates instances on older minors`}},
		{"PostgreSQL minor of a major without known minors", "dev", func(c *Config) { c.Database.EngineVersion = "18.1" }, []string{`Database.EngineVersion: got "18.1", want the major version 18 alone`}},
		{"PostgreSQL major out of standard support", "dev", func(c *Config) { c.Database.EngineVersion = "13" }, []string{`Database.EngineVersion: got "13", want a PostgreSQL major version RDS creates in standard support: 14 or 14.20-14.22, 15 or 15.15-15.17, 16 or 16.11-16.13, 17 or 17.7-17.9, 18`}},
		{"unsupported PostgreSQL major", "dev", func(c *Config) { c.Database.EngineVersion = "12.20" }, []string{`Database.EngineVersion: got "12.20"`}},
		{"malformed PostgreSQL version", "dev", func(c *Config) { c.Database.EngineVersion = "16.x" }, []string{`Database.EngineVersion: got "16.x"`}},
		{"instance class with db. prefix", "dev", func(c *Config) { c.Database.InstanceClass = "db.t4g.micro" }, []string{`Database.InstanceClass: got "db.t4g.micro", want a current RDS instance class for PostgreSQL without the db. prefix`}},
		{"old instance class", "prod", func(c *Config) { c.Database.InstanceClass = "m4.large" }, []string{`Database.InstanceClass: got "m4.large"`}},
		{"storage limit below allocation", "prod", func(c *Config) { c.Database.MaxAllocatedStorageGiB = 50 }, []string{"Database.MaxAllocatedStorageGiB: got 50, want from Database.AllocatedStorageGiB (100) to 16384"}},
		{"storage below gp3 minimum", "dev", func(c *Config) { c.Database.AllocatedStorageGiB = 10 }, []string{"Database.AllocatedStorageGiB: got 10, want from 20 to 16384"}},
		{"protected database with short backups", "prod", func(c *Config) { c.Database.BackupRetentionDays = 7 }, []string{"Database.BackupRetentionDays: got 7, want from 14 to 35 days"}},
		{"backup retention beyond 35 days", "dev", func(c *Config) { c.Database.BackupRetentionDays = 36 }, []string{"Database.BackupRetentionDays: got 36"}},
		{"malformed backup window", "dev", func(c *Config) { c.Database.BackupWindow = "2am-3am" }, []string{`Database.BackupWindow: got "2am-3am", want a daily UTC window hh:mm-hh:mm`}},
		{"backup window too short", "dev", func(c *Config) { c.Database.BackupWindow = "02:00-02:15" }, []string{`Database.BackupWindow: got "02:00-02:15", want a window of at least 30 minutes`}},
		{"maintenance overlapping backups", "dev", func(c *Config) { c.Database.MaintenanceWindow = "tue:02:30-tue:03:30" }, []string{`Database.MaintenanceWindow: got "tue:02:30-tue:03:30", want a window that does not overlap Database.BackupWindow (02:00-03:00)`}},
		{"maintenance overlapping a backup window past midnight", "dev", func(c *Config) {
			c.Database.BackupWindow = "23:30-00:30"
			c.Database.MaintenanceWindow = "mon:00:00-mon:01:00"
		}, []string{`Database.MaintenanceWindow: got "mon:00:00-mon:01:00"`}},
		{"malformed maintenance window", "dev", func(c *Config) { c.Database.MaintenanceWindow = "sunday 4am" }, []string{`Database.MaintenanceWindow: got "sunday 4am", want a weekly UTC window`}},
		{"enhanced monitoring interval", "prod", func(c *Config) { c.Database.MonitoringIntervalSeconds = 20 }, []string{"Database.MonitoringIntervalSeconds: got 20, want one of [1 5 10 15 30 60]"}},
		{"database log retention", "dev", func(c *Config) { c.Database.LogRetentionDays = 0 }, []string{"Database.LogRetentionDays: got 0"}},
		{"the application user is the master user", "dev", func(c *Config) { c.Database.AppUsername = c.Database.Username }, []string{`Database.AppUsername: got "app_admin"`}},
		{"an application user RDS reserves", "prod", func(c *Config) { c.Database.AppUsername = "rdsadmin" }, []string{`Database.AppUsername: got "rdsadmin"`}},
		{"the Redis default user as the application's", "dev", func(c *Config) { c.Cache.AppUsername = "default" }, []string{`Cache.AppUsername: got "default"`}},
		{"a Redis user name with characters ElastiCache refuses", "prod", func(c *Config) { c.Cache.AppUsername = "app@web" }, []string{`Cache.AppUsername: got "app@web"`}},
		{"reserved master user", "dev", func(c *Config) { c.Database.Username = "postgres" }, []string{`Database.Username: got "postgres"`}},
		{"database name with hyphen", "dev", func(c *Config) { c.Database.DatabaseName = "my-app" }, []string{`Database.DatabaseName: got "my-app"`}},
		{"rotation never", "dev", func(c *Config) { c.Database.RotationDays = 0 }, []string{"Database.RotationDays: got 0, want from 1 to 365"}},
		{"unknown Redis version", "dev", func(c *Config) { c.Cache.EngineVersion = "8.0" }, []string{`Cache.EngineVersion: got "8.0", want one of [6.2 7.0 7.1]`}},
		{"prod without alarm destination", "prod", func(c *Config) { c.Monitoring.AlarmEmails = nil }, []string{`Monitoring.AlarmEmails: got [], want at least one address: Monitoring.RequireAlarmDestination is on`}},
		{"placeholder alarm e-mail in a real account", "dev", func(c *Config) {
			c.Account = "123456789012"
			c.Monitoring.AlarmEmails = []string{"oncall@acme.io", "ops@EXAMPLE.org", "x@mail.test"}
		}, []string{`Monitoring.AlarmEmails[1]: got "ops@EXAMPLE.org", want a real address`, `Monitoring.AlarmEmails[2]: got "x@mail.test", want a real address`}},
		{"placeholder certificate in a real account", "prod", func(c *Config) {
			c.Account = "123456789012"
			c.Monitoring.AlarmEmails = []string{"oncall@acme.io"}
			c.LoadBalancer.CertificateArn = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
		}, []string{`LoadBalancer.CertificateArn: got "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000", want a real certificate: the all-zero ID is the presets' placeholder`}},
		{"certificate of another account", "prod", func(c *Config) {
			c.LoadBalancer.CertificateArn = "arn:aws:acm:eu-west-1:999999999999:certificate/11111111-2222-3333-4444-555555555555"
		}, []string{`LoadBalancer.CertificateArn: got "arn:aws:acm:eu-west-1:999999999999:certificate/11111111-2222-3333-4444-555555555555", want a certificate of the stacks' account 222222222222`}},
		{"certificate of another region", "prod", func(c *Config) {
			c.LoadBalancer.CertificateArn = "arn:aws:acm:us-east-1:222222222222:certificate/11111111-2222-3333-4444-555555555555"
		}, []string{`LoadBalancer.CertificateArn: got "arn:aws:acm:us-east-1:222222222222:certificate/11111111-2222-3333-4444-555555555555", want a certificate in the stacks' region eu-west-1`}},
		{"image tag of a scratch prefix", "prod", func(c *Config) { c.Service.ImageTag = "pr-42" }, []string{`Service.ImageTag: got "pr-42", want a release tag: tags starting with "pr-", in any case, are scratch images`}},
		{"no scratch prefix", "dev", func(c *Config) { c.Registry.ScratchTagPrefixes = nil }, []string{`Registry.ScratchTagPrefixes: got [], want 1 to 5 tag prefixes`}},
		{"bad and duplicate scratch prefixes", "dev", func(c *Config) { c.Registry.ScratchTagPrefixes = []string{"pr-", "pr-", "a b"} }, []string{
			`Registry.ScratchTagPrefixes[1]: got "pr-", want each prefix listed once`, `Registry.ScratchTagPrefixes[2]: got "a b", want 1-30 tag characters`}},
		{"node type without cache. prefix", "dev", func(c *Config) { c.Cache.NodeType = "t4g.micro" }, []string{`Cache.NodeType: got "t4g.micro"`}},
		{"too many replicas", "prod", func(c *Config) { c.Cache.Replicas = 6 }, []string{"Cache.Replicas: got 6, want from 0 to 5"}},
		{"snapshot retention out of range", "dev", func(c *Config) { c.Cache.SnapshotRetentionDays = 40 }, []string{"Cache.SnapshotRetentionDays: got 40"}},
		{"cache maintenance overlapping snapshots", "prod", func(c *Config) { c.Cache.MaintenanceWindow = "sat:01:30-sat:02:30" }, []string{`Cache.MaintenanceWindow: got "sat:01:30-sat:02:30", want a window that does not overlap Cache.SnapshotWindow (01:00-02:00)`}},
		{"cache maintenance window too long", "prod", func(c *Config) { c.Cache.MaintenanceWindow = "sun:05:00-tue:06:00" }, []string{`Cache.MaintenanceWindow: got "sun:05:00-tue:06:00", want a window from 60 minutes to 24 hours long`}},
		{"malformed image tag", "dev", func(c *Config) { c.Service.ImageTag = "v1 beta" }, []string{`Service.ImageTag: got "v1 beta", want empty (placeholder image) or a Docker tag`}},
		{"latest with immutable tags", "prod", func(c *Config) { c.Service.ImageTag = "latest" }, []string{`Service.ImageTag: got "latest", want a version tag`}},
		{"too little memory", "dev", func(c *Config) { c.Service.MemoryMiB = 64 }, []string{"Service.MemoryMiB: got 64, want from 128 to 30720 MiB"}},
		{"CPU target out of range", "dev", func(c *Config) { c.Service.CPUTargetPercent = 95 }, []string{"Service.CPUTargetPercent: got 95, want from 10 to 90"}},
		{"grace period too long", "dev", func(c *Config) { c.Service.HealthCheckGraceSeconds = 3600 }, []string{"Service.HealthCheckGraceSeconds: got 3600"}},
		{"unknown health-check tool", "dev", func(c *Config) { c.Service.HealthCheckTool = "nc" }, []string{`Service.HealthCheckTool: got "nc", want one of [wget curl none]`}},
		{"task log retention", "prod", func(c *Config) { c.Service.LogRetentionDays = 100 }, []string{"Service.LogRetentionDays: got 100"}},
		{"instance type too small for awsvpc tasks", "dev", func(c *Config) { c.Cluster.InstanceType = "t3.micro" }, []string{`Cluster.InstanceType: got "t3.micro", want a current x86_64 instance type of medium size or larger`}},
		{"Graviton instance type with the x86 AMI", "prod", func(c *Config) { c.Cluster.InstanceType = "m7g.large" }, []string{`Cluster.InstanceType: got "m7g.large"`}},
		{"malformed AMI ID", "prod", func(c *Config) { c.Cluster.AmiID = "ami-xyz" }, []string{`Cluster.AmiID: got "ami-xyz", want empty (recommended ECS-optimized AMI) or an AMI ID`}},
		{"root volume smaller than the AMI", "dev", func(c *Config) { c.Cluster.RootVolumeGiB = 8 }, []string{"Cluster.RootVolumeGiB: got 8"}},
		{"keep no images", "dev", func(c *Config) { c.Registry.KeepImages = 0 }, []string{"Registry.KeepImages: got 0, want from 1 to 1000"}},
		{"untagged images kept forever", "dev", func(c *Config) { c.Registry.UntaggedExpiryDays = 0 }, []string{"Registry.UntaggedExpiryDays: got 0"}},
		{"prod without certificate", "prod", func(c *Config) { c.LoadBalancer.CertificateArn = "" }, []string{`LoadBalancer.CertificateArn: got "", want a certificate ARN: LoadBalancer.RequireHTTPS is on`}},
		{"certificate that is not an ARN", "dev", func(c *Config) { c.LoadBalancer.CertificateArn = "my-cert" }, []string{`LoadBalancer.CertificateArn: got "my-cert", want empty or an ACM certificate ARN`}},
		{"certificate of another region", "prod", func(c *Config) {
			c.LoadBalancer.CertificateArn = "arn:aws:acm:us-east-1:222222222222:certificate/00000000-0000-0000-0000-000000000000"
		}, []string{"want a certificate in the stacks' region eu-west-1"}},
		{"relative health check path", "dev", func(c *Config) { c.LoadBalancer.HealthCheckPath = "healthz" }, []string{`LoadBalancer.HealthCheckPath: got "healthz", want an absolute URL path`}},
		{"bad healthy codes", "dev", func(c *Config) { c.LoadBalancer.HealthyHTTPCodes = "2xx" }, []string{`LoadBalancer.HealthyHTTPCodes: got "2xx"`}},
		{"health check thresholds out of range", "dev", func(c *Config) { c.LoadBalancer.HealthyThreshold = 1; c.LoadBalancer.UnhealthyThreshold = 11 }, []string{"LoadBalancer.HealthyThreshold: got 1", "LoadBalancer.UnhealthyThreshold: got 11"}},
		{"deregistration delay too long", "dev", func(c *Config) { c.LoadBalancer.DeregistrationDelaySeconds = 4000 }, []string{"LoadBalancer.DeregistrationDelaySeconds: got 4000"}},
		{"malformed alarm e-mail", "prod", func(c *Config) {
			c.Monitoring.AlarmEmails = []string{"oncall@example.com", "Ops <ops@example.com>", "nobody"}
		}, []string{
			`Monitoring.AlarmEmails[1]: got "Ops <ops@example.com>", want a plain e-mail address`, `Monitoring.AlarmEmails[2]: got "nobody"`}},
		{"internet egress rule with a bad CIDR, port and purpose", "prod", func(c *Config) {
			c.Network.InternetEgress = []Egress{{CIDR: "203.0.113.7/24", Port: 70000, Purpose: ""}}
		}, []string{`Network.InternetEgress[0].CIDR: got "203.0.113.7/24", want an IPv4 network`, "Network.InternetEgress[0].Port: got 70000", `Network.InternetEgress[0].Purpose: got ""`}},
		{"no endpoints and no way to AWS", "dev", func(c *Config) {
			c.Network.InternetEgress = []Egress{{CIDR: "203.0.113.0/24", Port: 443, Purpose: "a partner API"}}
		}, []string{
			"Network.InternetEgress: got [{203.0.113.0/24 443 a partner API}], want a rule for 0.0.0.0/0 on port 443: without Network.InterfaceEndpoints"}},
		{"firewall rate limit, rule groups and retention", "prod", func(c *Config) {
			c.LoadBalancer.Firewall.RateLimitPer5Minutes = 5
			c.LoadBalancer.Firewall.CountOnly = []string{"SQLiRuleSet", "SQLiRuleSet", "XSS"}
			c.LoadBalancer.Firewall.LogRetentionDays = 10
		}, []string{"LoadBalancer.Firewall.RateLimitPer5Minutes: got 5, want from 10 to 2000000000",
			`LoadBalancer.Firewall.CountOnly[1]: got "SQLiRuleSet", want each rule group listed once`,
			`LoadBalancer.Firewall.CountOnly[2]: got "XSS", want one of [AmazonIpReputationList CommonRuleSet KnownBadInputsRuleSet SQLiRuleSet]`,
			"LoadBalancer.Firewall.LogRetentionDays: got 10"}},
		{"unknown rollout strategy", "dev", func(c *Config) { c.Service.Rollout.Strategy = "ALL_AT_ONCE" }, []string{
			`Service.Rollout.Strategy: got "ALL_AT_ONCE", want one of [ROLLING BLUE_GREEN LINEAR CANARY]`}},
		{"canary share and bake out of range", "prod", func(c *Config) {
			c.Service.Rollout.StepPercent = 0.05
			c.Service.Rollout.StepBakeMinutes = -1
			c.Service.Rollout.BakeMinutes = 2000
		}, []string{"Service.Rollout.StepPercent: got 0.05, want a share from 0.1 to 99.9", "Service.Rollout.StepBakeMinutes: got -1", "Service.Rollout.BakeMinutes: got 2000"}},
		{"linear step too small or not in tenths", "prod", func(c *Config) { c.Service.Rollout.Strategy = "LINEAR"; c.Service.Rollout.StepPercent = 2.55 }, []string{
			"Service.Rollout.StepPercent: got 2.55, want a step from 3 to 99.9 in steps of 0.1"}},
		{"unknown Container Insights level", "dev", func(c *Config) { c.Cluster.ContainerInsights = "full" }, []string{`Cluster.ContainerInsights: got "full"`}},
		{"alarm e-mail listed twice in different case", "prod", func(c *Config) { c.Monitoring.AlarmEmails = []string{"OnCall@example.com", "oncall@EXAMPLE.com"} }, []string{
			`Monitoring.AlarmEmails[1]: got "oncall@EXAMPLE.com", want each address listed once (addresses are compared without case)`}},
		{"prod without an image tag and without the placeholder", "prod", func(c *Config) { c.Service.AllowPlaceholderImage = false }, []string{
			`Service.ImageTag: got "", want the release tag to run: prod does not allow the placeholder image`}},
		{"account missing from the file", "dev", func(c *Config) { c.Account = "" }, []string{`Account: got "", want a 12-digit AWS account ID`}},
		{"alarm e-mail listed twice", "dev", func(c *Config) { c.Monitoring.AlarmEmails = []string{"a@example.com", "a@example.com"} }, []string{`Monitoring.AlarmEmails[1]: got "a@example.com", want each address listed once`}},
		{"percentage threshold above 100", "prod", func(c *Config) { c.Monitoring.Thresholds.ServiceCPUPercent = 120 }, []string{"Monitoring.Thresholds.ServiceCPUPercent: got 120, want a percentage above 0 and at most 100"}},
		{"zero threshold", "dev", func(c *Config) { c.Monitoring.Thresholds.DatabaseFreeStorageGiB = 0 }, []string{"Monitoring.Thresholds.DatabaseFreeStorageGiB: got 0, want a positive number"}},
		{"negative latency threshold", "dev", func(c *Config) { c.Monitoring.Thresholds.DatabaseLatencyMillis = -5 }, []string{"Monitoring.Thresholds.DatabaseLatencyMillis: got -5"}},
		{"function log retention", "dev", func(c *Config) { c.Monitoring.FunctionLogRetentionDays = 2 }, []string{"Monitoring.FunctionLogRetentionDays: got 2"}},
		{"PostgreSQL minor that does not exist", "dev", func(c *Config) { c.Database.EngineVersion = "16.99" }, []string{
			`Database.EngineVersion: got "16.99", want the major version 16 alone, or 16.11-16.13: 16.99 is not a minor RDS is known to offer (lib/config/catalog.go`}},
		{"RDS instance class that does not exist", "dev", func(c *Config) { c.Database.InstanceClass = "t4g.24xlarge" }, []string{
			`Database.InstanceClass: got "t4g.24xlarge", want a current RDS instance class for PostgreSQL`}},
		{"EC2 instance type that does not exist", "dev", func(c *Config) { c.Cluster.InstanceType = "t3.24xlarge" }, []string{
			`Cluster.InstanceType: got "t3.24xlarge", want a current x86_64 instance type of medium size or larger, such as t3.medium or m6i.large (families c5, c6a, c6i`}},
		{"cache node type that does not exist", "prod", func(c *Config) { c.Cache.NodeType = "cache.r7g.24xlarge" }, []string{`Cache.NodeType: got "cache.r7g.24xlarge"`}},
		{"latest in another case", "dev", func(c *Config) { c.Service.ImageTag = "Latest" }, []string{`Service.ImageTag: got "Latest", want a version tag: latest names whatever was pushed last`}},
		{"latest where tags are mutable", "dev", func(c *Config) { c.Registry.ImmutableTags = false; c.Service.ImageTag = "latest" }, []string{
			`Service.ImageTag: got "latest", want a version tag`, "Registry.ImmutableTags: got false, want true: the service names its image by tag"}},
		{"scratch prefix in another case", "prod", func(c *Config) { c.Service.ImageTag = "PR-12" }, []string{`Service.ImageTag: got "PR-12", want a release tag: tags starting with "pr-", in any case`}},
		{"termination protection where make destroy must work", "dev", func(c *Config) { c.TerminationProtection = true }, []string{
			"TerminationProtection: got true, want false: make destroy must be able to delete dev's stacks (lib/config/presets.go, promises)"}},
		{"dev that keeps its data or protects its parts", "dev", func(c *Config) {
			c.RetainData = true
			c.Database.DeletionProtection = true
			c.Database.BackupRetentionDays = 14
			c.LoadBalancer.DeletionProtection = true
			c.Cluster.ManagedTerminationProtection = true
		}, []string{"RetainData: got true, want false", "Database.DeletionProtection: got true, want false", "LoadBalancer.DeletionProtection: got true, want false",
			"Cluster.ManagedTerminationProtection: got true, want false"}},
		{"prod that drops its protection", "prod", func(c *Config) {
			c.TerminationProtection = false
			c.RetainData = false
			c.Database.DeletionProtection = false
			c.LoadBalancer.DeletionProtection = false
		}, []string{"TerminationProtection: got false, want true: prod's stacks are protected from deletion", "RetainData: got false, want true",
			"Database.DeletionProtection: got false, want true", "LoadBalancer.DeletionProtection: got false, want true"}},
		{"prod with its egress open", "prod", func(c *Config) {
			c.Network.InternetEgress = []Egress{{CIDR: "203.0.113.0/24", Port: 443, Purpose: "a partner API"}, {CIDR: "0.0.0.0/0", Port: 443, Purpose: "anything"}}
		}, []string{`Network.InternetEgress: got [{203.0.113.0/24 443 a partner API} {0.0.0.0/0 443 anything}], want named destinations only, never 0.0.0.0/0`}},
		{"prod without endpoints", "prod", func(c *Config) {
			c.Network.InterfaceEndpoints = false
			c.Network.InternetEgress = []Egress{{CIDR: "0.0.0.0/0", Port: 443, Purpose: "AWS APIs"}}
		}, []string{"Network.InterfaceEndpoints: got false, want true: prod reaches AWS through VPC endpoints", "Network.InternetEgress: got [{0.0.0.0/0 443 AWS APIs}], want named destinations only"}},
		{"p95 above p99", "prod", func(c *Config) { c.Monitoring.Thresholds.P95ResponseSeconds = 4 }, []string{
			"Monitoring.Thresholds.P95ResponseSeconds: got 4, want at most Monitoring.Thresholds.P99ResponseSeconds (3): the 95th percentile is never above the 99th"}},
		{"free-storage alarm above the storage", "dev", func(c *Config) { c.Monitoring.Thresholds.DatabaseFreeStorageGiB = 20 }, []string{
			"Monitoring.Thresholds.DatabaseFreeStorageGiB: got 20, want less than Database.AllocatedStorageGiB (20): the alarm would fire on an empty database"}},
		{"freeable-memory alarm above the instance's memory", "dev", func(c *Config) { c.Monitoring.Thresholds.DatabaseFreeableMemoryMiB = 2048 }, []string{
			"Monitoring.Thresholds.DatabaseFreeableMemoryMiB: got 2048, want less than the 1024 MiB of db.t4g.micro: the alarm would always fire"}},
		{"several faults are all reported", "prod", func(c *Config) {
			c.AppName = "-bad"
			c.Network.VpcCidr = "not-a-cidr"
			c.Network.NatGateways = 9
			c.Service.ContainerPort = 443
			c.Cluster.MaxInstances = 0
		}, []string{`AppName: got "-bad"`, `Network.VpcCidr: got "not-a-cidr"`, "Network.NatGateways: got 9", "Service.ContainerPort: got 443", "Cluster.MaxInstances: got 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fixture(t, tt.env)
			tt.mutate(&cfg)
			err := cfg.Validate()
			require.Error(t, err)
			msg := err.Error()
			for _, want := range tt.want {
				assert.Contains(t, msg, want)
			}
			assert.Len(t, unwrap(err), len(tt.want), "problems reported:\n%s", msg)
		})
	}
}

func TestFieldErrorIsInspectable(t *testing.T) {
	cfg := fixture(t, "dev")
	cfg.Network.NatGateways = 7
	var fe *FieldError
	require.ErrorAs(t, cfg.Validate(), &fe)
	assert.Equal(t, "Network.NatGateways", fe.Field)
	assert.Equal(t, 7, fe.Value)
}

func unwrap(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// TestHealthCheckCommandFollowsPortAndPath: the container health check must
// probe the container's own port and the load balancer's path, whatever
// they are, and quote what the shell would otherwise interpret.
func TestHealthCheckCommandFollowsPortAndPath(t *testing.T) {
	for _, tt := range []struct {
		tool, path string
		port       int
		want       string
	}{
		{"wget", "/healthz", 8080, "wget -q -O /dev/null http://localhost:8080/healthz || exit 1"},
		{"wget", "/status", 9000, "wget -q -O /dev/null http://localhost:9000/status || exit 1"},
		{"curl", "/ready", 3000, "curl -fsS -o /dev/null http://localhost:3000/ready || exit 1"},
		{"wget", "/health?deep=1&x='y'", 8080, `wget -q -O /dev/null 'http://localhost:8080/health?deep=1&x='\''y'\''' || exit 1`},
		{"none", "/healthz", 8080, ""},
	} {
		t.Run(tt.tool+tt.path, func(t *testing.T) {
			s := Service{HealthCheckTool: tt.tool, ContainerPort: tt.port}
			assert.Equal(t, tt.want, s.HealthCheckCommand(tt.path))
		})
	}
}

// TestEngineVersionsMapToTheirFamilies: every supported major has the
// parameter-group family AWS defines for it, so a version change brings the
// right parameter group (postgresNN; redis6.x for 6.2, redis7 for 7.x).
func TestEngineVersionsMapToTheirFamilies(t *testing.T) {
	for version, family := range map[string]string{"14": "postgres14", "15": "postgres15", "16": "postgres16", "16.11": "postgres16", "17": "postgres17", "17.7": "postgres17", "18": "postgres18"} {
		t.Run("postgres "+version, func(t *testing.T) {
			cfg := fixture(t, "dev")
			cfg.Database.EngineVersion = version
			require.NoError(t, cfg.Validate())
			assert.Equal(t, family, "postgres"+cfg.Database.PostgresMajor())
		})
	}
	for version, family := range map[string]string{"6.2": "redis6.x", "7.0": "redis7", "7.1": "redis7"} {
		t.Run("redis "+version, func(t *testing.T) {
			cfg := fixture(t, "dev")
			cfg.Cache.EngineVersion = version
			require.NoError(t, cfg.Validate())
			assert.Equal(t, family, cfg.Cache.RedisFamily())
		})
	}
}
