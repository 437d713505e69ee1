package lib

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
	"github.com/example/platform/lib/redis"
)

// CacheStackProps configures the Cache stack.
type CacheStackProps struct {
	awscdk.StackProps
	Deployment Deployment
	Cache      config.Cache
	Vpc        awsec2.IVpc
	// SecurityGroup is attached to the nodes; its rules live in the Network stack.
	SecurityGroup awsec2.ISecurityGroup
	// Key encrypts data at rest and snapshots.
	Key awskms.IKey
	// AuthToken is the secret whose RedisAuthTokenKey field is the AUTH token.
	AuthToken awssecretsmanager.ISecret
}

// CacheStack owns the Redis replication group.
type CacheStack struct {
	awscdk.Stack
	Redis *redis.ReplicationGroup
}

// NewCacheStack creates Redis on ElastiCache in the private subnets with TLS
// and AUTH required, and its logs in CloudWatch.
func NewCacheStack(scope constructs.Construct, id string, props *CacheStackProps) *CacheStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	dep, c := props.Deployment, props.Cache

	snapshot := awscdk.RemovalPolicy_DESTROY
	if dep.RetainData {
		snapshot = awscdk.RemovalPolicy_SNAPSHOT
	}
	rg := redis.New(stack, "Redis", &redis.Props{
		Port:           RedisPort,
		Vpc:            props.Vpc,
		SecurityGroups: []awsec2.ISecurityGroup{lockedSecurityGroup(stack, "CacheSecurityGroup", props.SecurityGroup)},
		EngineVersion:  c.EngineVersion,
		Family:         c.RedisFamily(),
		// volatile-lru evicts only keys with a TTL, so data the application
		// stores without one (sessions, locks) is never silently dropped;
		// idle clients are disconnected after five minutes.
		Parameters:            map[string]string{"maxmemory-policy": "volatile-lru", "timeout": "300"},
		NodeType:              c.NodeType,
		Replicas:              c.Replicas,
		AuthToken:             props.AuthToken.SecretValueFromJson(jsii.String(RedisAuthTokenKey)),
		EncryptionKey:         props.Key,
		SnapshotRetentionDays: c.SnapshotRetentionDays,
		SnapshotWindow:        c.SnapshotWindow,
		MaintenanceWindow:     c.MaintenanceWindow,
		SlowLog:               newLogGroup(stack, "SlowLog", dep, c.LogRetentionDays, ""),
		EngineLog:             newLogGroup(stack, "EngineLog", dep, c.LogRetentionDays, ""),
		RemovalPolicy:         snapshot,
		GroupRemovalPolicy:    dep.removalPolicy(),
	})
	suppress(rg.Resource, "AwsSolutions-AEC5",
		fmt.Sprintf("Redis keeps its default port %d: the cache security group admits only the application, and TLS plus AUTH are required.", RedisPort))
	if !rg.HasReplicas() {
		suppress(rg.Resource, "AwsSolutions-AEC4",
			"A single node without Multi-AZ is the documented choice for this environment (Config.Cache.Replicas=0); prod runs a replica with automatic failover.")
	}

	output(stack, "RedisEndpoint", "redis_endpoint: Redis primary address:port (TLS and AUTH required)",
		awscdk.Fn_Join(jsii.String(":"), &[]*string{rg.PrimaryEndpointAddress(), rg.PrimaryEndpointPort()}))
	return &CacheStack{Stack: stack, Redis: rg}
}
