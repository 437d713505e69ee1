package lib

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
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
	// Credentials is the application user's secret ({"username",
	// "password"}); DefaultUserPassword the secret whose RedisAuthTokenKey
	// field is the disabled default user's password.
	Credentials, DefaultUserPassword awssecretsmanager.ISecret
}

// CacheStack owns the Redis replication group.
type CacheStack struct {
	awscdk.Stack
	Redis *redis.ReplicationGroup
}

// NewCacheStack creates Redis on ElastiCache in the private subnets with TLS
// and RBAC authentication required, and its logs in CloudWatch.
func NewCacheStack(scope constructs.Construct, id string, props *CacheStackProps) *CacheStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	dep, c := props.Deployment, props.Cache

	snapshot := awscdk.RemovalPolicy_DESTROY
	if dep.RetainData {
		snapshot = awscdk.RemovalPolicy_SNAPSHOT
	}
	users := newRedisUsers(stack, dep, c, props)
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
		UserGroupIDs:          []*string{users.Ref()},
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
		fmt.Sprintf("Redis keeps its default port %d: the cache security group admits only the application, and TLS plus RBAC authentication are required.", RedisPort))
	suppress(rg.Resource, "AwsSolutions-AEC6",
		"Clients authenticate as ElastiCache RBAC users (UserGroupIds: the application's user, the default user disabled), which replaces the single AUTH token; ElastiCache refuses a user group on a group with an AUTH token.")
	if !rg.HasReplicas() {
		suppress(rg.Resource, "AwsSolutions-AEC4",
			"A single node without Multi-AZ is the documented choice for this environment (Config.Cache.Replicas=0); prod runs a replica with automatic failover.")
	}

	output(stack, "RedisEndpoint", "redis_endpoint: Redis primary address:port (TLS and RBAC authentication required)",
		awscdk.Fn_Join(jsii.String(":"), &[]*string{rg.PrimaryEndpointAddress(), rg.PrimaryEndpointPort()}))
	return &CacheStack{Stack: stack, Redis: rg}
}

// newRedisUsers creates the group's ElastiCache RBAC users: the
// application's, whose password is its secret's and whose access string is
// config.RedisAppAccess, and a "default" user that is off, which replaces
// the built-in default user every group must contain (ElastiCache User
// Guide, Clusters.RBAC: "A user named default must be included"). User and
// group IDs are physical names, unique in the account and region, so they
// carry the deployment's name. The users hold no data: a failed create or a
// deleted stack takes them along.
func newRedisUsers(stack awscdk.Stack, dep Deployment, c config.Cache, props *CacheStackProps) awselasticache.CfnUserGroup {
	user := func(id, userID, name, access string, password awscdk.SecretValue) awselasticache.CfnUser {
		return awselasticache.NewCfnUser(stack, jsii.String(id), &awselasticache.CfnUserProps{
			Engine:       jsii.String("redis"),
			UserId:       jsii.String(userID),
			UserName:     jsii.String(name),
			AccessString: jsii.String(access),
			// A JSON property in the CDK: written with CloudFormation's names.
			AuthenticationMode: map[string]any{"Type": "password", "Passwords": []*string{password.UnsafeUnwrap()}},
		})
	}
	app := user("RedisAppUser", dep.Name("redis", c.AppUsername), c.AppUsername, config.RedisAppAccess,
		props.Credentials.SecretValueFromJson(jsii.String("password")))
	disabled := user("RedisDefaultUser", dep.Name("redis-default"), "default", config.RedisDisabledAccess,
		props.DefaultUserPassword.SecretValueFromJson(jsii.String(RedisAuthTokenKey)))
	return awselasticache.NewCfnUserGroup(stack, jsii.String("RedisUsers"), &awselasticache.CfnUserGroupProps{
		Engine:      jsii.String("redis"),
		UserGroupId: jsii.String(dep.Name()),
		UserIds:     &[]*string{disabled.Ref(), app.Ref()},
	})
}
