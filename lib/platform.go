// Package lib builds the platform: one CloudFormation stack per layer, wired
// together with typed references.
package lib

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
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

// Stacks returns the stacks in deployment order.
func (p *Platform) Stacks() []awscdk.Stack {
	return []awscdk.Stack{
		p.Network.Stack, p.Secrets.Stack, p.Registry.Stack, p.Alerts.Stack, p.Database.Stack, p.Cache.Stack,
		p.Cluster.Stack, p.LoadBalancer.Stack, p.Service.Stack, p.Monitoring.Stack,
	}
}

// NewPlatform creates every stack of the environment described by cfg in
// scope (normally the App), tags everything and applies the cdk-nag
// AwsSolutions checks. cfg must have passed Validate.
func NewPlatform(scope constructs.Construct, cfg config.Config) *Platform {
	p := &Platform{Config: cfg}
	p.Network = NewNetworkStack(scope, "Network", &NetworkStackProps{
		StackProps: stackProps(cfg, "network", "VPC, subnets, NAT, endpoints and every security group"),
		Config:     cfg,
	})
	p.Secrets = NewSecretsStack(scope, "Secrets", &SecretsStackProps{
		StackProps: stackProps(cfg, "secrets", "KMS key, database credentials and Redis AUTH token"),
		Config:     cfg,
	})
	p.Registry = NewRegistryStack(scope, "Registry", &RegistryStackProps{
		StackProps: stackProps(cfg, "registry", "ECR repository of the application image"),
		Config:     cfg,
	})
	p.Alerts = NewAlertsStack(scope, "Alerts", &AlertsStackProps{
		StackProps: stackProps(cfg, "alerts", "encrypted SNS topic every alarm notifies"),
		Config:     cfg,
	})
	p.Database = NewDatabaseStack(scope, "Database", &DatabaseStackProps{
		StackProps:            stackProps(cfg, "database", "RDS PostgreSQL"),
		Config:                cfg,
		Vpc:                   p.Network.Vpc,
		SecurityGroup:         p.Network.SecurityGroups.Database,
		RotationSecurityGroup: p.Network.SecurityGroups.Rotation,
		Key:                   p.Secrets.Key,
		Credentials:           p.Secrets.DatabaseCredentials,
	})
	p.Cache = NewCacheStack(scope, "Cache", &CacheStackProps{
		StackProps:    stackProps(cfg, "cache", "ElastiCache Redis"),
		Config:        cfg,
		Vpc:           p.Network.Vpc,
		SecurityGroup: p.Network.SecurityGroups.Cache,
		Key:           p.Secrets.Key,
		AuthToken:     p.Secrets.RedisAuthToken,
	})
	p.Cluster = NewClusterStack(scope, "Cluster", &ClusterStackProps{
		StackProps:    stackProps(cfg, "cluster", "ECS cluster on EC2 with its capacity provider"),
		Config:        cfg,
		Vpc:           p.Network.Vpc,
		SecurityGroup: p.Network.SecurityGroups.Instances,
	})
	p.LoadBalancer = NewLoadBalancerStack(scope, "LoadBalancer", &LoadBalancerStackProps{
		StackProps:    stackProps(cfg, "loadbalancer", "internet-facing ALB, listeners, target group, access logs"),
		Config:        cfg,
		Vpc:           p.Network.Vpc,
		SecurityGroup: p.Network.SecurityGroups.LoadBalancer,
	})
	p.Service = NewServiceStack(scope, "Service", &ServiceStackProps{
		StackProps:          stackProps(cfg, "service", "the application's ECS service"),
		Config:              cfg,
		Cluster:             p.Cluster.Cluster,
		CapacityProvider:    p.Cluster.CapacityProvider,
		SecurityGroup:       p.Network.SecurityGroups.Service,
		Repository:          p.Registry.Repository,
		TargetGroup:         p.LoadBalancer.TargetGroup,
		DatabaseCredentials: p.Database.Credentials,
		RedisAuthToken:      p.Secrets.RedisAuthToken,
		SecretsKey:          p.Secrets.Key,
		AlarmTopic:          p.Alerts.Topic,
		Redis:               p.Cache.Redis,
	})
	p.Monitoring = NewMonitoringStack(scope, "Monitoring", &MonitoringStackProps{
		StackProps:       stackProps(cfg, "monitoring", "alarms and dashboard"),
		Config:           cfg,
		AlarmTopic:       p.Alerts.Topic,
		LoadBalancer:     p.LoadBalancer.LoadBalancer,
		TargetGroup:      p.LoadBalancer.TargetGroup,
		Cluster:          p.Cluster.Cluster,
		Service:          p.Service.Service,
		Database:         p.Database.Instance,
		Redis:            p.Cache.Redis,
		DeploymentAlarms: p.Service.DeploymentAlarms,
	})
	giveFunctionsLogGroups(p.Stacks(), cfg)

	// With the placeholder image nothing references the repository yet;
	// the explicit edge keeps the deploy order the same once a tag is set.
	p.Service.AddStackDependency(p.Registry.Stack, jsii.String("the application image comes from the repository"))

	tags := awscdk.Tags_Of(scope)
	tags.Add(jsii.String("Application"), jsii.String(cfg.AppName), nil)
	tags.Add(jsii.String("Environment"), jsii.String(cfg.Environment), nil)
	tags.Add(jsii.String("ManagedBy"), jsii.String("aws-cdk"), nil)
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return p
}

// stackProps names a stack after the application, the environment and the
// layer, binds it to the configured account and region (lookups and ALB
// access logs need a concrete region) and protects it where configured.
func stackProps(cfg config.Config, layer, purpose string) awscdk.StackProps {
	return awscdk.StackProps{
		StackName:             jsii.String(fmt.Sprintf("%s-%s-%s", cfg.AppName, cfg.Environment, layer)),
		Description:           jsii.String(fmt.Sprintf("%s (%s): %s", cfg.AppName, cfg.Environment, purpose)),
		Env:                   &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(cfg.Region)},
		TerminationProtection: jsii.Bool(cfg.TerminationProtection),
	}
}

// removalPolicy keeps stateful resources when their stack or logical ID goes
// away, except in environments meant to be torn down completely. A resource
// whose creating deploy rolls back is deleted all the same
// (RetainExceptOnCreate): it holds nothing yet, and a retained one with a
// fixed name would make the retry fail with "already exists".
func removalPolicy(cfg config.Config) awscdk.RemovalPolicy {
	if cfg.RetainData {
		return awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE
	}
	return awscdk.RemovalPolicy_DESTROY
}

// newKey creates a customer-managed KMS key with yearly rotation whose
// lifetime follows the environment's policy for stateful resources; a
// deleted key waits the longest pending window before it is gone.
func newKey(scope constructs.Construct, id string, cfg config.Config, purpose string) awskms.Key {
	return awskms.NewKey(scope, jsii.String(id), &awskms.KeyProps{
		Description:       jsii.String(cfg.AppName + " " + cfg.Environment + ": " + purpose),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removalPolicy(cfg),
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
	})
}
