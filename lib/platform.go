// Package lib builds the platform: one CloudFormation stack per layer, wired
// together with typed references.
package lib

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/example/platform/lib/config"
)

// Platform holds every stack of one environment.
type Platform struct {
	Config       config.Config
	Network      *NetworkStack
	Secrets      *SecretsStack
	Database     *DatabaseStack
	Cache        *CacheStack
	Registry     *RegistryStack
	Cluster      *ClusterStack
	LoadBalancer *LoadBalancerStack
	Service      *ServiceStack
	Alerts       *AlertsStack
	Monitoring   *MonitoringStack
}

// Stacks returns the stacks in deployment order, leaving out any that was
// not created.
func (p *Platform) Stacks() []awscdk.Stack {
	var out []awscdk.Stack
	add := func(created bool, s func() awscdk.Stack) {
		if created {
			out = append(out, s())
		}
	}
	add(p.Network != nil, func() awscdk.Stack { return p.Network.Stack })
	add(p.Secrets != nil, func() awscdk.Stack { return p.Secrets.Stack })
	add(p.Registry != nil, func() awscdk.Stack { return p.Registry.Stack })
	add(p.Alerts != nil, func() awscdk.Stack { return p.Alerts.Stack })
	add(p.Database != nil, func() awscdk.Stack { return p.Database.Stack })
	add(p.Cache != nil, func() awscdk.Stack { return p.Cache.Stack })
	add(p.Cluster != nil, func() awscdk.Stack { return p.Cluster.Stack })
	add(p.LoadBalancer != nil, func() awscdk.Stack { return p.LoadBalancer.Stack })
	add(p.Service != nil, func() awscdk.Stack { return p.Service.Stack })
	add(p.Monitoring != nil, func() awscdk.Stack { return p.Monitoring.Stack })
	return out
}

// NewPlatform creates every stack of the environment described by cfg in
// scope (normally the App), tags everything and applies the cdk-nag
// AwsSolutions checks. cfg must have passed Validate. Each stack gets its
// own config section; every value one layer takes from another is a named
// prop here. It is long on purpose: the whole wiring, and so every
// cross-layer dependency, reads in one place. firstCreate names the stacks
// the deploy creates (config.FirstCreate), which get their protections in
// the deploy's second pass.
func NewPlatform(scope constructs.Construct, cfg config.Config, firstCreate ...string) *Platform {
	d := DeploymentOf(cfg)
	d.Creating = firstCreate
	p := &Platform{Config: cfg}
	p.Network = NewNetworkStack(scope, "Network", &NetworkStackProps{
		StackProps:        d.stackProps("network", "VPC, subnets, NAT, endpoints and every security group"),
		Deployment:        d,
		Network:           cfg.Network,
		AvailabilityZones: cfg.AvailabilityZones,
		ContainerPort:     cfg.Service.ContainerPort,
	})
	// Every log group from here on is encrypted with the Network stack's
	// logs key.
	d.LogsKey = p.Network.LogsKey
	p.Secrets = NewSecretsStack(scope, "Secrets", &SecretsStackProps{
		StackProps:          d.stackProps("secrets", "KMS key, database and Redis credentials"),
		Deployment:          d,
		DatabaseUsername:    cfg.Database.Username,
		ApplicationUsername: cfg.Database.AppUsername,
		RedisUsername:       cfg.Cache.AppUsername,
	})
	p.Registry = NewRegistryStack(scope, "Registry", &RegistryStackProps{
		StackProps: d.stackProps("registry", "ECR repository of the application image"),
		Deployment: d,
		Registry:   cfg.Registry,
	})
	p.Alerts = NewAlertsStack(scope, "Alerts", &AlertsStackProps{
		StackProps:  d.stackProps("alerts", "encrypted SNS topic every alarm notifies"),
		Deployment:  d,
		AlarmEmails: cfg.Monitoring.AlarmEmails,
	})
	p.Database = NewDatabaseStack(scope, "Database", &DatabaseStackProps{
		StackProps:               d.stackProps("database", "RDS PostgreSQL"),
		Deployment:               d,
		Database:                 cfg.Database,
		FunctionLogRetentionDays: cfg.Monitoring.FunctionLogRetentionDays,
		Vpc:                      p.Network.Vpc,
		SecurityGroup:            p.Network.SecurityGroups.Database,
		RotationSecurityGroup:    p.Network.SecurityGroups.Rotation,
		Key:                      p.Secrets.Key,
		Credentials:              p.Secrets.DatabaseCredentials,
		ApplicationCredentials:   p.Secrets.ApplicationCredentials,
	})
	p.Cache = NewCacheStack(scope, "Cache", &CacheStackProps{
		StackProps:          d.stackProps("cache", "ElastiCache Redis"),
		Deployment:          d,
		Cache:               cfg.Cache,
		Vpc:                 p.Network.Vpc,
		SecurityGroup:       p.Network.SecurityGroups.Cache,
		Key:                 p.Secrets.Key,
		DefaultUserPassword: p.Secrets.RedisAuthToken,
		Credentials:         p.Secrets.RedisCredentials,
	})
	p.Cluster = NewClusterStack(scope, "Cluster", &ClusterStackProps{
		StackProps:    d.stackProps("cluster", "ECS cluster on EC2 with its capacity provider"),
		Deployment:    d,
		Cluster:       cfg.Cluster,
		Vpc:           p.Network.Vpc,
		SecurityGroup: p.Network.SecurityGroups.Instances,
	})
	p.LoadBalancer = NewLoadBalancerStack(scope, "LoadBalancer", &LoadBalancerStackProps{
		StackProps:    d.stackProps("loadbalancer", "internet-facing ALB, listeners, target group, access logs"),
		Deployment:    d,
		LoadBalancer:  cfg.LoadBalancer,
		ContainerPort: cfg.Service.ContainerPort,
		Progressive:   cfg.Service.Rollout.TwoTargetGroups(),
		Vpc:           p.Network.Vpc,
		SecurityGroup: p.Network.SecurityGroups.LoadBalancer,
	})
	p.Service = NewServiceStack(scope, "Service", &ServiceStackProps{
		StackProps:               d.stackProps("service", "the application's ECS service"),
		Deployment:               d,
		Service:                  cfg.Service,
		HealthCheckPath:          cfg.LoadBalancer.HealthCheckPath,
		Target5xxCount:           cfg.Monitoring.Thresholds.Target5xxCount,
		UnhealthyTargets:         cfg.Monitoring.Thresholds.UnhealthyTargets,
		FunctionLogRetentionDays: cfg.Monitoring.FunctionLogRetentionDays,
		Cluster:                  p.Cluster.Cluster,
		CapacityProvider:         p.Cluster.CapacityProvider,
		SecurityGroup:            p.Network.SecurityGroups.Service,
		Repository:               p.Registry.Repository,
		TargetGroup:              p.LoadBalancer.TargetGroup,
		GreenTargetGroup:         p.LoadBalancer.GreenTargetGroup,
		ProductionRule:           p.LoadBalancer.ProductionRule,
		ProductionListener:       p.LoadBalancer.ProductionListener,
		DatabaseCredentials:      p.Database.ApplicationCredentials,
		RedisCredentials:         p.Secrets.RedisCredentials,
		SecretsKey:               p.Secrets.Key,
		AlarmTopic:               p.Alerts.Topic,
		Redis:                    p.Cache.Redis,
	})
	p.Monitoring = NewMonitoringStack(scope, "Monitoring", &MonitoringStackProps{
		StackProps:       d.stackProps("monitoring", "alarms and dashboard"),
		Deployment:       d,
		Thresholds:       cfg.Monitoring.Thresholds,
		MinTasks:         cfg.Service.MinTasks,
		AlarmTopic:       p.Alerts.Topic,
		LoadBalancer:     p.LoadBalancer.LoadBalancer,
		BlockedRequests:  p.LoadBalancer.BlockedRequests,
		TargetGroup:      p.LoadBalancer.TargetGroup,
		GreenTargetGroup: p.LoadBalancer.GreenTargetGroup,
		Cluster:          p.Cluster.Cluster,
		Service:          p.Service.Service,
		Database:         p.Database.Instance,
		Redis:            p.Cache.Redis,
		DeploymentAlarms: p.Service.DeploymentAlarms,
	})
	giveFunctionsLogGroups(p.Stacks(), d, cfg.Monitoring.FunctionLogRetentionDays)

	// With the placeholder image nothing references the repository yet;
	// the explicit edge keeps the deploy order the same once a tag is set.
	p.Service.AddStackDependency(p.Registry.Stack, jsii.String("the application image comes from the repository"))

	// Everything is tagged but listener rules: ECS moves the production
	// rule's weights live, and any update of the rule, a tag change
	// included, writes the template's weights back over them
	// (aws/aws-cdk#36649), so the rule carries nothing that can change.
	tags := awscdk.Tags_Of(scope)
	untagged := &awscdk.TagProps{ExcludeResourceTypes: jsii.Strings("AWS::ElasticLoadBalancingV2::ListenerRule")}
	tags.Add(jsii.String("Application"), jsii.String(cfg.AppName), untagged)
	tags.Add(jsii.String("Environment"), jsii.String(cfg.Environment), untagged)
	tags.Add(jsii.String("ManagedBy"), jsii.String("aws-cdk"), untagged)
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return p
}
