// Package config holds the single configuration type of the platform, its
// per-environment presets and its validation. It has no CDK dependency, so it
// can be loaded and checked before any construct exists.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
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
	// Account is the 12-digit AWS account the stacks are bound to. The presets
	// carry placeholders (PlaceholderAccounts) that make offline synthesis
	// work; override with -c account=ID. Default per preset.
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
	// TerminationProtection protects every stack from `cdk destroy`.
	// Default: false in dev, true in prod.
	TerminationProtection bool
	// RetainData keeps stateful resources (keys, secrets, log groups,
	// repository, access-log bucket, database and cache groups; the cache
	// keeps a final snapshot) when they leave the template or their stack is
	// deleted. Default: false in dev (everything is destroyed with the
	// stack), true in prod.
	RetainData bool
}

// Network configures the VPC and its subnets.
type Network struct {
	// VpcCidr is the IPv4 block of the VPC: an RFC 1918 prefix from /16 to /24
	// that does not overlap the Docker bridge (172.17.0.0/16) of the ECS
	// instances. Default "10.10.0.0/16" in dev, "10.20.0.0/16" in prod.
	VpcCidr string
	// PublicSubnetMask is the prefix length of each public subnet (16-28).
	// Default 24.
	PublicSubnetMask int
	// PrivateSubnetMask is the prefix length of each private subnet (16-28).
	// Default 20 (room for awsvpc task ENIs).
	PrivateSubnetMask int
	// NatGateways is the number of NAT gateways, 1 up to one per zone.
	// Default 1 in dev, one per zone in prod.
	NatGateways int
	// FlowLogRetentionDays is how long VPC flow logs are kept; one of the
	// values CloudWatch Logs accepts. Default 14 in dev, 365 in prod.
	FlowLogRetentionDays int
	// InterfaceEndpoints adds VPC interface endpoints for ECR, CloudWatch Logs
	// and Secrets Manager so that this traffic stays off the NAT gateways.
	// Default false in dev, true in prod.
	InterfaceEndpoints bool
}

// Service configures the application's ECS service.
type Service struct {
	// ContainerPort is the port the application listens on (1024-65535; the
	// ALB, database and cache ports are taken). Default 8080.
	ContainerPort int
	// MinTasks is the lower bound of service auto scaling (1-100).
	// Default 1 in dev, 3 in prod.
	MinTasks int
	// MaxTasks is the upper bound of service auto scaling (MinTasks-100).
	// Default 2 in dev, 12 in prod.
	MaxTasks int
	// ImageTag is the tag of the repository's image to run. Empty runs a
	// public placeholder that answers the health check, so the first deploy
	// stabilizes while the repository is still empty. Default "".
	ImageTag string
	// Cpu is the container's CPU units (128-10240). Default 256 in dev,
	// 512 in prod.
	Cpu int
	// MemoryMiB is the container's hard memory limit (128-30720).
	// Default 512 in dev, 1024 in prod.
	MemoryMiB int
	// HealthCheckTool is the program the container health check runs to
	// fetch LoadBalancer.HealthCheckPath on ContainerPort: "wget" or "curl"
	// (the image needs /bin/sh and that program), or "none" for images
	// without a shell, which then rely on the load balancer's health check
	// alone. Default "wget".
	HealthCheckTool string
	// HealthCheckGraceSeconds is how long ECS ignores failing load-balancer
	// health checks of a new task (0-600). Default 60.
	HealthCheckGraceSeconds int
	// CPUTargetPercent is the average CPU that auto scaling keeps (10-90).
	// Default 60.
	CPUTargetPercent int
	// RequestsPerTarget is the ALB request count per task per minute that
	// auto scaling keeps (1-100000). Default 1000.
	RequestsPerTarget int
	// LogRetentionDays keeps the tasks' logs; one of the values CloudWatch
	// Logs accepts. Default 14 in dev, 365 in prod.
	LogRetentionDays int
	// EnableExec turns on ECS Exec (an SSM session into a running
	// container). Default true in dev, false in prod.
	EnableExec bool
}

// Cluster configures the Auto Scaling group of ECS container instances.
type Cluster struct {
	// MinInstances is the lower bound of the Auto Scaling group (0-100).
	// Default 1 in dev, 3 in prod.
	MinInstances int
	// MaxInstances is the upper bound of the Auto Scaling group
	// (MinInstances-100, at least 1). Default 3 in dev, 12 in prod.
	MaxInstances int
	// InstanceType is the x86_64 EC2 instance type of the container
	// instances. Default "t3.medium" in dev, "m6i.large" in prod.
	InstanceType string
	// AmiID pins the ECS-optimized Amazon Linux 2023 AMI (ami-...). Empty
	// follows AWS's recommended AMI, so a deploy after an AMI release
	// replaces the instances (one at a time, draining tasks first).
	// Default "" (override with -c amiId=ami-...).
	AmiID string
	// RootVolumeGiB is the encrypted gp3 root volume (30-1000). Default 30.
	RootVolumeGiB int
	// ManagedTerminationProtection stops the capacity provider's scale-in
	// from terminating instances that run tasks. It also makes the group
	// impossible to delete while instances are protected, so it is off where
	// `cdk destroy` must complete. Default false in dev, true in prod.
	ManagedTerminationProtection bool
}

// Registry configures the ECR repository.
type Registry struct {
	// ImmutableTags forbids overwriting a pushed tag. Default true.
	ImmutableTags bool
	// ScratchTagPrefixes are the tag prefixes of images built for review or
	// testing (1-5 prefixes of 1-30 tag characters). Lifecycle rules keep
	// the newest KeepImages images of each prefix and expire older ones;
	// images with any other tag (releases, which Service.ImageTag names)
	// are never expired, so a task can always pull the image it runs or
	// rolls back to. Default ["pr-", "ci-"].
	ScratchTagPrefixes []string
	// KeepImages is how many images of each scratch prefix lifecycle rules
	// keep (1-1000). Default 10 in dev, 50 in prod.
	KeepImages int
	// UntaggedExpiryDays expires untagged images after this many days
	// (1-365). Default 1 in dev, 7 in prod.
	UntaggedExpiryDays int
}

// LoadBalancer configures the internet-facing ALB and its target group.
type LoadBalancer struct {
	// CertificateArn is the ACM certificate of the HTTPS listener, in the
	// stacks' account and region. Empty serves plain HTTP (dev only).
	// Override with -c certificateArn=ARN. Default "" in dev, a placeholder
	// in prod that is refused once Account is a real account.
	CertificateArn string
	// RequireHTTPS makes a certificate mandatory. Default false in dev,
	// true in prod.
	RequireHTTPS bool
	// DeletionProtection blocks deleting the ALB. Default false in dev, true
	// in prod.
	DeletionProtection bool
	// HealthCheckPath is the target group's HTTP health check path.
	// Default "/healthz".
	HealthCheckPath string
	// HealthyHTTPCodes are the codes that count as healthy, e.g. "200" or
	// "200-299". Default "200-299".
	HealthyHTTPCodes string
	// HealthCheckIntervalSeconds is the time between health checks (5-300).
	// Default 15.
	HealthCheckIntervalSeconds int
	// HealthyThreshold and UnhealthyThreshold are consecutive checks (2-10).
	// Default 2 and 3.
	HealthyThreshold   int
	UnhealthyThreshold int
	// DeregistrationDelaySeconds lets in-flight requests finish (0-3600).
	// Default 30 in dev, 60 in prod.
	DeregistrationDelaySeconds int
	// IdleTimeoutSeconds closes idle connections (1-4000). Default 60.
	IdleTimeoutSeconds int
	// AccessLogRetentionDays expires access logs (1-3650). Default 30 in
	// dev, 365 in prod.
	AccessLogRetentionDays int
}

// Database configures the RDS PostgreSQL instance.
type Database struct {
	// EngineVersion is the PostgreSQL major version (14-18); RDS creates
	// the instance on that major's default minor and AutoMinorVersionUpgrade
	// keeps it current, so a minor AWS stops offering never breaks a new
	// environment. MAJOR.MINOR pins a minor instead, and is refused for
	// minors RDS no longer creates. A new major needs a new parameter group,
	// which the stack derives from it. Default "16".
	EngineVersion string
	// InstanceClass is the RDS instance class without the "db." prefix.
	// Default "t4g.micro" in dev, "m7g.large" in prod.
	InstanceClass string
	// AllocatedStorageGiB is the initial gp3 storage (20-16384). Default 20.
	AllocatedStorageGiB int
	// MaxAllocatedStorageGiB is the storage autoscaling limit
	// (AllocatedStorageGiB-16384). Default 50 in dev, 500 in prod.
	MaxAllocatedStorageGiB int
	// MultiAZ runs a synchronous standby in a second zone.
	// Default false in dev, true in prod.
	MultiAZ bool
	// DeletionProtection blocks deleting the instance.
	// Default false in dev, true in prod.
	DeletionProtection bool
	// BackupRetentionDays keeps automated backups (1-35; at least 14 where
	// DeletionProtection is on). Default 1 in dev, 14 in prod.
	BackupRetentionDays int
	// BackupWindow is the daily UTC backup window, hh:mm-hh:mm, at least 30
	// minutes, not overlapping MaintenanceWindow. Default "02:00-03:00".
	BackupWindow string
	// MaintenanceWindow is the weekly UTC maintenance window,
	// ddd:hh:mm-ddd:hh:mm, at least 30 minutes. Default "sun:03:30-sun:04:30".
	MaintenanceWindow string
	// MonitoringIntervalSeconds is the enhanced-monitoring interval, one of
	// 1, 5, 10, 15, 30, 60. Default 60 in dev, 15 in prod.
	MonitoringIntervalSeconds int
	// SlowStatementMillis logs statements slower than this (100-60000).
	// Default 500.
	SlowStatementMillis int
	// LogRetentionDays keeps the exported PostgreSQL logs; one of the values
	// CloudWatch Logs accepts. Default 14 in dev, 365 in prod.
	LogRetentionDays int
	// RotationDays rotates the master password this often (1-365).
	// Default 30.
	RotationDays int
	// DatabaseName is the database created on the instance. Default "app".
	DatabaseName string
	// Username is the master user name. Default "app_admin".
	Username string
}

// Cache configures the ElastiCache Redis replication group.
type Cache struct {
	// EngineVersion pins Redis OSS as MAJOR.MINOR (6.2, 7.0 or 7.1); it
	// decides the parameter-group family (redis6.x, redis7). Default "7.1".
	EngineVersion string
	// NodeType is the ElastiCache node type.
	// Default "cache.t4g.micro" in dev, "cache.r7g.large" in prod.
	NodeType string
	// Replicas is the number of read replicas (0-5); with at least one,
	// automatic failover and Multi-AZ are on. Default 0 in dev, 1 in prod.
	Replicas int
	// SnapshotRetentionDays keeps daily snapshots (0-35).
	// Default 1 in dev, 7 in prod.
	SnapshotRetentionDays int
	// SnapshotWindow is the daily UTC snapshot window, hh:mm-hh:mm, at least
	// 60 minutes, not overlapping MaintenanceWindow. Default "01:00-02:00".
	SnapshotWindow string
	// MaintenanceWindow is the weekly UTC maintenance window,
	// ddd:hh:mm-ddd:hh:mm, at least 60 minutes. Default "sun:05:00-sun:06:00".
	MaintenanceWindow string
	// LogRetentionDays keeps the slow and engine logs; one of the values
	// CloudWatch Logs accepts. Default 14 in dev, 90 in prod.
	LogRetentionDays int
}

// Monitoring configures the alarm topic and the alarm thresholds. Every
// alarm notifies the topic when it goes into ALARM and back to OK.
type Monitoring struct {
	// AlarmEmails are subscribed to the alarm topic (each confirms by mail;
	// -c alarmEmails=a@example.com,b@example.com). Addresses at the
	// reserved example domains are placeholders, refused once Account is a
	// real account. Default none in dev, a placeholder in prod.
	AlarmEmails []string
	// RequireAlarmDestination makes at least one alarm e-mail mandatory, so
	// that alarms in this environment always reach someone. Default false
	// in dev, true in prod.
	RequireAlarmDestination bool
	// FunctionLogRetentionDays keeps the logs of the platform's own
	// functions (custom resources, credential rotation, the redeploy state
	// machine); one of the values CloudWatch Logs accepts. Default 14 in dev,
	// 90 in prod.
	FunctionLogRetentionDays int
	// Thresholds of the alarms.
	Thresholds Thresholds
}

// Thresholds are the alarm thresholds. Percentages are 1-100; counts,
// sizes and times are positive.
type Thresholds struct {
	// ALB5xxPercent: share of requests the ALB itself answers with 5xx.
	// Default 5 in dev, 1 in prod.
	ALB5xxPercent float64
	// Target5xxCount: 5xx answers from the tasks per minute; also a
	// deployment alarm that rolls back a bad image. Default 20 in dev, 5 in prod.
	Target5xxCount float64
	// UnhealthyTargets: unhealthy tasks in the target group; also a
	// deployment alarm. Default 1.
	UnhealthyTargets float64
	// P95ResponseSeconds and P99ResponseSeconds: target response time.
	// Default 2 and 5 in dev, 1 and 3 in prod.
	P95ResponseSeconds float64
	P99ResponseSeconds float64
	// ServiceCPUPercent and ServiceMemoryPercent: service utilization.
	// Default 90 and 90 in dev, 80 and 80 in prod.
	ServiceCPUPercent    float64
	ServiceMemoryPercent float64
	// ClusterCPUReservationPercent and ClusterMemoryReservationPercent:
	// share of the instances' capacity reserved by tasks. Default 90.
	ClusterCPUReservationPercent    float64
	ClusterMemoryReservationPercent float64
	// DatabaseCPUPercent: database CPU utilization. Default 90 in dev, 80
	// in prod.
	DatabaseCPUPercent float64
	// DatabaseFreeableMemoryMiB: alarm below. Default 64 in dev, 512 in prod.
	DatabaseFreeableMemoryMiB float64
	// DatabaseFreeStorageGiB: alarm below. Default 2 in dev, 20 in prod.
	DatabaseFreeStorageGiB float64
	// DatabaseConnections: alarm above. Default 70 in dev, 500 in prod.
	DatabaseConnections float64
	// DatabaseLatencyMillis: read and write latency. Default 50 in dev,
	// 20 in prod.
	DatabaseLatencyMillis float64
	// RedisEngineCPUPercent and RedisMemoryPercent: Redis engine thread CPU
	// and share of maxmemory used, worst node. Default 90 and 90 in dev, 80
	// and 80 in prod.
	RedisEngineCPUPercent float64
	RedisMemoryPercent    float64
	// RedisEvictions: keys evicted per five minutes, worst node. Default 1000
	// in dev, 100 in prod.
	RedisEvictions float64
	// RedisConnections: alarm above. Default 500 in dev, 5000 in prod.
	RedisConnections float64
	// RedisReplicationLagSeconds: only where replicas exist. Default 5 in
	// dev, 1 in prod.
	RedisReplicationLagSeconds float64
}

// Presets returns a fresh copy of the configuration of every known
// environment, keyed by name.
func Presets() map[string]Config {
	return map[string]Config{
		"dev": {
			Environment:       "dev",
			AppName:           "webapp",
			Account:           "111111111111",
			Region:            "eu-west-1",
			AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"},
			Network: Network{
				VpcCidr:              "10.10.0.0/16",
				PublicSubnetMask:     24,
				PrivateSubnetMask:    20,
				NatGateways:          1,
				FlowLogRetentionDays: 14,
				InterfaceEndpoints:   false,
			},
			Service: Service{
				ContainerPort:           8080,
				MinTasks:                1,
				MaxTasks:                2,
				Cpu:                     256,
				MemoryMiB:               512,
				HealthCheckTool:         "wget",
				HealthCheckGraceSeconds: 60,
				CPUTargetPercent:        60,
				RequestsPerTarget:       1000,
				LogRetentionDays:        14,
				EnableExec:              true,
			},
			Cluster:  Cluster{MinInstances: 1, MaxInstances: 3, InstanceType: "t3.medium", RootVolumeGiB: 30},
			Registry: Registry{ImmutableTags: true, ScratchTagPrefixes: []string{"pr-", "ci-"}, KeepImages: 10, UntaggedExpiryDays: 1},
			LoadBalancer: LoadBalancer{
				HealthCheckPath:            "/healthz",
				HealthyHTTPCodes:           "200-299",
				HealthCheckIntervalSeconds: 15,
				HealthyThreshold:           2,
				UnhealthyThreshold:         3,
				DeregistrationDelaySeconds: 30,
				IdleTimeoutSeconds:         60,
				AccessLogRetentionDays:     30,
			},
			Monitoring: Monitoring{
				FunctionLogRetentionDays: 14,
				Thresholds: Thresholds{
					ALB5xxPercent: 5, Target5xxCount: 20, UnhealthyTargets: 1, P95ResponseSeconds: 2, P99ResponseSeconds: 5,
					ServiceCPUPercent: 90, ServiceMemoryPercent: 90, ClusterCPUReservationPercent: 90, ClusterMemoryReservationPercent: 90,
					DatabaseCPUPercent: 90, DatabaseFreeableMemoryMiB: 64, DatabaseFreeStorageGiB: 2, DatabaseConnections: 70, DatabaseLatencyMillis: 50,
					RedisEngineCPUPercent: 90, RedisMemoryPercent: 90, RedisEvictions: 1000, RedisConnections: 500, RedisReplicationLagSeconds: 5,
				},
			},
			Database: Database{
				EngineVersion:             "16",
				InstanceClass:             "t4g.micro",
				AllocatedStorageGiB:       20,
				MaxAllocatedStorageGiB:    50,
				BackupRetentionDays:       1,
				BackupWindow:              "02:00-03:00",
				MaintenanceWindow:         "sun:03:30-sun:04:30",
				MonitoringIntervalSeconds: 60,
				SlowStatementMillis:       500,
				LogRetentionDays:          14,
				RotationDays:              30,
				DatabaseName:              "app",
				Username:                  "app_admin",
			},
			Cache: Cache{
				EngineVersion:         "7.1",
				NodeType:              "cache.t4g.micro",
				SnapshotRetentionDays: 1,
				SnapshotWindow:        "01:00-02:00",
				MaintenanceWindow:     "sun:05:00-sun:06:00",
				LogRetentionDays:      14,
			},
		},
		"prod": {
			Environment:       "prod",
			AppName:           "webapp",
			Account:           "222222222222",
			Region:            "eu-west-1",
			AvailabilityZones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
			Network: Network{
				VpcCidr:              "10.20.0.0/16",
				PublicSubnetMask:     24,
				PrivateSubnetMask:    20,
				NatGateways:          3,
				FlowLogRetentionDays: 365,
				InterfaceEndpoints:   true,
			},
			Service: Service{
				ContainerPort:           8080,
				MinTasks:                3,
				MaxTasks:                12,
				Cpu:                     512,
				MemoryMiB:               1024,
				HealthCheckTool:         "wget",
				HealthCheckGraceSeconds: 60,
				CPUTargetPercent:        60,
				RequestsPerTarget:       1000,
				LogRetentionDays:        365,
			},
			Cluster: Cluster{
				MinInstances:                 3,
				MaxInstances:                 12,
				InstanceType:                 "m6i.large",
				RootVolumeGiB:                30,
				ManagedTerminationProtection: true,
			},
			Registry: Registry{ImmutableTags: true, ScratchTagPrefixes: []string{"pr-", "ci-"}, KeepImages: 50, UntaggedExpiryDays: 7},
			LoadBalancer: LoadBalancer{
				CertificateArn:             "arn:aws:acm:eu-west-1:222222222222:certificate/00000000-0000-0000-0000-000000000000",
				RequireHTTPS:               true,
				DeletionProtection:         true,
				HealthCheckPath:            "/healthz",
				HealthyHTTPCodes:           "200-299",
				HealthCheckIntervalSeconds: 15,
				HealthyThreshold:           2,
				UnhealthyThreshold:         3,
				DeregistrationDelaySeconds: 60,
				IdleTimeoutSeconds:         60,
				AccessLogRetentionDays:     365,
			},
			Monitoring: Monitoring{
				AlarmEmails:              []string{"oncall@example.com"},
				RequireAlarmDestination:  true,
				FunctionLogRetentionDays: 90,
				Thresholds: Thresholds{
					ALB5xxPercent: 1, Target5xxCount: 5, UnhealthyTargets: 1, P95ResponseSeconds: 1, P99ResponseSeconds: 3,
					ServiceCPUPercent: 80, ServiceMemoryPercent: 80, ClusterCPUReservationPercent: 90, ClusterMemoryReservationPercent: 90,
					DatabaseCPUPercent: 80, DatabaseFreeableMemoryMiB: 512, DatabaseFreeStorageGiB: 20, DatabaseConnections: 500, DatabaseLatencyMillis: 20,
					RedisEngineCPUPercent: 80, RedisMemoryPercent: 80, RedisEvictions: 100, RedisConnections: 5000, RedisReplicationLagSeconds: 1,
				},
			},
			Database: Database{
				EngineVersion:             "16",
				InstanceClass:             "m7g.large",
				AllocatedStorageGiB:       100,
				MaxAllocatedStorageGiB:    500,
				MultiAZ:                   true,
				DeletionProtection:        true,
				BackupRetentionDays:       14,
				BackupWindow:              "02:00-03:00",
				MaintenanceWindow:         "sun:03:30-sun:04:30",
				MonitoringIntervalSeconds: 15,
				SlowStatementMillis:       500,
				LogRetentionDays:          365,
				RotationDays:              30,
				DatabaseName:              "app",
				Username:                  "app_admin",
			},
			Cache: Cache{
				EngineVersion:         "7.1",
				NodeType:              "cache.r7g.large",
				Replicas:              1,
				SnapshotRetentionDays: 7,
				SnapshotWindow:        "01:00-02:00",
				MaintenanceWindow:     "sun:05:00-sun:06:00",
				LogRetentionDays:      90,
			},
			TerminationProtection: true,
			RetainData:            true,
		},
	}
}

// PlaceholderAccounts are the accounts of the presets. They make offline
// synthesis and the tests work and are never deployed to: once Account is
// any other account, Validate refuses the presets' other placeholders too
// (the all-zero certificate, e-mail addresses at reserved example domains).
var PlaceholderAccounts = []string{"111111111111", "222222222222"}

// placeholderCertificateID is the certificate ID of the prod preset's
// placeholder ARN.
const placeholderCertificateID = "00000000-0000-0000-0000-000000000000"

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
// on top of a preset. Empty fields leave the preset alone.
type Overrides struct {
	// Account replaces the preset's placeholder account (-c account=ID).
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

// Load returns the validated configuration of the named environment with the
// overrides applied. The error lists every problem at once.
func Load(env string, o Overrides) (Config, error) {
	if env == "" {
		env = DefaultEnvironment
	}
	cfg, ok := Presets()[env]
	if !ok {
		return Config{}, &FieldError{Field: "env", Value: env, Allowed: "one of " + strings.Join(Names(), ", ")}
	}
	for _, o := range []struct {
		value string
		field *string
	}{
		{o.Account, &cfg.Account},
		{o.CertificateArn, &cfg.LoadBalancer.CertificateArn},
		{o.ImageTag, &cfg.Service.ImageTag},
		{o.AmiID, &cfg.Cluster.AmiID},
	} {
		if o.value != "" {
			*o.field = o.value
		}
	}
	if len(o.AlarmEmails) > 0 {
		cfg.Monitoring.AlarmEmails = o.AlarmEmails
	}
	return cfg, cfg.Validate()
}

// FieldError reports one invalid field: its name, the value given and what is
// allowed.
type FieldError struct {
	Field   string
	Value   any
	Allowed string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: got %v, want %s", e.Field, format(e.Value), e.Allowed)
}

func format(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []string:
		return fmt.Sprintf("%q", v)
	default:
		return fmt.Sprint(v)
	}
}

var (
	appNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,19}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
	envPattern     = regexp.MustCompile(`^[a-z][a-z0-9]{1,9}$`)

	// dockerBridge is the address range of docker0 on ECS-optimized AMIs; a
	// VPC overlapping it makes part of the VPC unreachable from containers.
	dockerBridge = netip.MustParsePrefix("172.17.0.0/16")
	private      = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
	}
	// reservedPorts are used by the ALB listeners, the database and the cache.
	reservedPorts = []int{80, 443, 5432, 6379}
)

// RetentionDays lists the retention periods CloudWatch Logs accepts.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Validate checks every field and returns all problems joined, or nil.
func (c Config) Validate() error {
	v := &validator{}
	v.check(envPattern.MatchString(c.Environment), "Environment", c.Environment, "2-10 lowercase letters or digits, starting with a letter")
	v.check(appNamePattern.MatchString(c.AppName), "AppName", c.AppName, "2-20 lowercase letters, digits or hyphens, starting with a letter")
	v.check(accountPattern.MatchString(c.Account), "Account", c.Account, "a 12-digit AWS account ID")
	v.check(regionPattern.MatchString(c.Region), "Region", c.Region, "an AWS region name such as eu-west-1")
	c.validateZones(v)
	c.validateNetwork(v)
	c.validateCapacity(v)
	c.validateDatabase(v)
	c.validateCache(v)
	c.validateCompute(v)
	c.validateMonitoring(v)
	return v.err()
}

func (c Config) validateZones(v *validator) {
	azs := c.AvailabilityZones
	v.check(len(azs) >= 2 && len(azs) <= 3, "AvailabilityZones", azs, "2 or 3 availability zones")
	seen := map[string]bool{}
	for i, az := range azs {
		field := fmt.Sprintf("AvailabilityZones[%d]", i)
		v.check(len(az) == len(c.Region)+1 && strings.HasPrefix(az, c.Region) && az[len(az)-1] >= 'a' && az[len(az)-1] <= 'f',
			field, az, fmt.Sprintf("a zone of region %s such as %sa", c.Region, c.Region))
		v.check(!seen[az], field, az, "each zone listed once")
		seen[az] = true
	}
}

func (c Config) validateNetwork(v *validator) {
	n := c.Network
	prefix, err := netip.ParsePrefix(n.VpcCidr)
	switch {
	case err != nil:
		v.add("Network.VpcCidr", n.VpcCidr, "an IPv4 CIDR block such as 10.10.0.0/16")
	case !prefix.Addr().Is4() || prefix.Masked() != prefix:
		v.add("Network.VpcCidr", n.VpcCidr, "an IPv4 network address with no host bits set, such as 10.10.0.0/16")
	case prefix.Bits() < 16 || prefix.Bits() > 24:
		v.add("Network.VpcCidr", n.VpcCidr, "a prefix length from /16 to /24")
	case !slices.ContainsFunc(private, func(p netip.Prefix) bool { return p.Contains(prefix.Addr()) && p.Bits() <= prefix.Bits() }):
		v.add("Network.VpcCidr", n.VpcCidr, "a private (RFC 1918) range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
	case prefix.Overlaps(dockerBridge):
		v.add("Network.VpcCidr", n.VpcCidr, "a range that does not overlap the Docker bridge 172.17.0.0/16 of the ECS instances")
	default:
		c.validateSubnets(v, prefix)
	}
	v.check(n.PublicSubnetMask >= 16 && n.PublicSubnetMask <= 28, "Network.PublicSubnetMask", n.PublicSubnetMask, "a prefix length from 16 to 28")
	v.check(n.PrivateSubnetMask >= 16 && n.PrivateSubnetMask <= 28, "Network.PrivateSubnetMask", n.PrivateSubnetMask, "a prefix length from 16 to 28")
	v.check(n.NatGateways >= 1 && n.NatGateways <= max(len(c.AvailabilityZones), 1), "Network.NatGateways", n.NatGateways,
		fmt.Sprintf("from 1 to the number of availability zones (%d)", len(c.AvailabilityZones)))
	v.check(slices.Contains(RetentionDays, n.FlowLogRetentionDays), "Network.FlowLogRetentionDays", n.FlowLogRetentionDays,
		fmt.Sprintf("one of %v", RetentionDays))
}

// validateSubnets checks that one public and one private subnet per zone fit
// into the VPC block without overlapping, the way the VPC construct lays them out.
func (c Config) validateSubnets(v *validator, vpc netip.Prefix) {
	n := c.Network
	larger := fmt.Sprintf("a subnet no larger than the VPC (/%d or longer)", vpc.Bits())
	v.check(n.PublicSubnetMask >= vpc.Bits(), "Network.PublicSubnetMask", n.PublicSubnetMask, larger)
	v.check(n.PrivateSubnetMask >= vpc.Bits(), "Network.PrivateSubnetMask", n.PrivateSubnetMask, larger)
	if n.PublicSubnetMask < vpc.Bits() || n.PrivateSubnetMask < vpc.Bits() || n.PublicSubnetMask > 28 || n.PrivateSubnetMask > 28 {
		return // the masks themselves are wrong; the fit is meaningless
	}
	zones := uint64(len(c.AvailabilityZones))
	need := zones<<(32-n.PublicSubnetMask) + zones<<(32-n.PrivateSubnetMask)
	have := uint64(1) << (32 - vpc.Bits())
	v.check(need <= have, "Network.VpcCidr", n.VpcCidr,
		fmt.Sprintf("room for %d public /%d and %d private /%d subnets (%d addresses, the block has %d)",
			zones, n.PublicSubnetMask, zones, n.PrivateSubnetMask, need, have))
}

func (c Config) validateCapacity(v *validator) {
	s, k := c.Service, c.Cluster
	v.check(s.ContainerPort >= 1024 && s.ContainerPort <= 65535 && !slices.Contains(reservedPorts, s.ContainerPort),
		"Service.ContainerPort", s.ContainerPort, fmt.Sprintf("an unprivileged port from 1024 to 65535 other than %v", reservedPorts))
	v.check(s.MinTasks >= 1 && s.MinTasks <= 100, "Service.MinTasks", s.MinTasks, "from 1 to 100")
	v.check(s.MaxTasks >= max(s.MinTasks, 1) && s.MaxTasks <= 100, "Service.MaxTasks", s.MaxTasks,
		fmt.Sprintf("from Service.MinTasks (%d) to 100", s.MinTasks))
	v.check(k.MinInstances >= 0 && k.MinInstances <= 100, "Cluster.MinInstances", k.MinInstances, "from 0 to 100")
	v.check(k.MaxInstances >= max(k.MinInstances, 1) && k.MaxInstances <= 100, "Cluster.MaxInstances", k.MaxInstances,
		fmt.Sprintf("from Cluster.MinInstances (%d, at least 1) to 100", k.MinInstances))
}

type validator struct{ errs []error }

func (v *validator) add(field string, value any, allowed string) {
	v.errs = append(v.errs, &FieldError{Field: field, Value: value, Allowed: allowed})
}

func (v *validator) check(ok bool, field string, value any, allowed string) {
	if !ok {
		v.add(field, value, allowed)
	}
}

func (v *validator) err() error { return errors.Join(v.errs...) }
