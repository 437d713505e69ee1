// Package redis provides ReplicationGroup, a small construct over
// ElastiCache's CfnReplicationGroup (the CDK has no L2 for it) that other
// layers use like an L2: endpoint, port and metrics. It offers no
// Connections(): security-group rules belong to the caller's network policy.
package redis

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configures a ReplicationGroup. TLS in transit is always required and
// data at rest always encrypted: both are fixed at creation, and changing
// them later replaces the group, so they are not options.
type Props struct {
	// Port is the port the nodes listen on.
	Port int
	// Vpc and Subnets place the nodes; Subnets defaults to the private
	// subnets with egress.
	Vpc     awsec2.IVpc
	Subnets *awsec2.SubnetSelection
	// SecurityGroups are attached to the nodes; their rules are the
	// caller's, which is why the construct exposes no Connections().
	SecurityGroups []awsec2.ISecurityGroup
	// EngineVersion pins Redis (e.g. "7.1"); Family is its parameter-group
	// family (e.g. "redis7").
	EngineVersion string
	Family        string
	// Parameters override engine defaults in the group's parameter group.
	Parameters map[string]string
	// NodeType is the node type, e.g. "cache.t4g.micro".
	NodeType string
	// Replicas is the number of read replicas; with at least one, automatic
	// failover and Multi-AZ are enabled.
	Replicas int
	// UserGroupIDs are the ElastiCache RBAC user groups whose users may
	// authenticate (the group has no AUTH token: the two exclude each
	// other, and RBAC is chosen at creation, see docs/operations.md).
	UserGroupIDs []*string
	// EncryptionKey encrypts the data at rest and the snapshots.
	EncryptionKey awskms.IKey
	// SnapshotRetentionDays, SnapshotWindow and MaintenanceWindow as in
	// ElastiCache (windows in UTC).
	SnapshotRetentionDays int
	SnapshotWindow        string
	MaintenanceWindow     string
	// SlowLog and EngineLog receive the slow log and engine log as JSON.
	SlowLog   awslogs.ILogGroup
	EngineLog awslogs.ILogGroup
	// RemovalPolicy applies to the replication group: SNAPSHOT keeps a final
	// snapshot, DESTROY does not.
	RemovalPolicy awscdk.RemovalPolicy
	// GroupRemovalPolicy applies to the subnet and parameter groups, which
	// cannot be snapshotted: where the data is kept, keep them too, so a
	// restore finds them.
	GroupRemovalPolicy awscdk.RemovalPolicy
}

// ReplicationGroup is a Redis replication group (cluster mode disabled) with
// its subnet group and parameter group.
type ReplicationGroup struct {
	constructs.Construct
	// Resource is the underlying CloudFormation resource.
	Resource    awselasticache.CfnReplicationGroup
	memberCount int
	hasReplicas bool
}

// New creates the replication group in scope.
func New(scope constructs.Construct, id string, props *Props) *ReplicationGroup {
	c := constructs.NewConstruct(scope, jsii.String(id))
	subnets := props.Subnets
	if subnets == nil {
		subnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}
	}
	subnetGroup := awselasticache.NewCfnSubnetGroup(c, jsii.String("SubnetGroup"), &awselasticache.CfnSubnetGroupProps{
		Description: jsii.String(fmt.Sprintf("Subnets of %s", *c.Node().Path())),
		SubnetIds:   toAny(*props.Vpc.SelectSubnets(subnets).SubnetIds),
	})
	params := map[string]*string{}
	for k, v := range props.Parameters {
		params[k] = jsii.String(v)
	}
	paramGroup := awselasticache.NewCfnParameterGroup(c, jsii.String("ParameterGroup"), &awselasticache.CfnParameterGroupProps{
		CacheParameterGroupFamily: jsii.String(props.Family),
		Description:               jsii.String(fmt.Sprintf("Parameters of %s", *c.Node().Path())),
		Properties:                &params,
	})
	sgIDs := make([]*string, 0, len(props.SecurityGroups))
	for _, sg := range props.SecurityGroups {
		sgIDs = append(sgIDs, sg.SecurityGroupId())
	}
	ha := props.Replicas > 0
	rg := awselasticache.NewCfnReplicationGroup(c, jsii.String("Resource"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupDescription: jsii.String(fmt.Sprintf("Redis of %s", *c.Node().Path())),
		Engine:                      jsii.String("redis"),
		EngineVersion:               jsii.String(props.EngineVersion),
		CacheNodeType:               jsii.String(props.NodeType),
		NumCacheClusters:            jsii.Number(float64(1 + props.Replicas)),
		AutomaticFailoverEnabled:    jsii.Bool(ha),
		MultiAzEnabled:              jsii.Bool(ha),
		CacheSubnetGroupName:        subnetGroup.Ref(),
		CacheParameterGroupName:     paramGroup.Ref(),
		SecurityGroupIds:            &sgIDs,
		Port:                        jsii.Number(float64(props.Port)),
		TransitEncryptionEnabled:    jsii.Bool(true),
		TransitEncryptionMode:       jsii.String("required"),
		AtRestEncryptionEnabled:     jsii.Bool(true),
		KmsKeyId:                    props.EncryptionKey.KeyArn(),
		UserGroupIds:                &props.UserGroupIDs,
		AutoMinorVersionUpgrade:     jsii.Bool(true),
		SnapshotRetentionLimit:      jsii.Number(float64(props.SnapshotRetentionDays)),
		SnapshotWindow:              jsii.String(props.SnapshotWindow),
		PreferredMaintenanceWindow:  jsii.String(props.MaintenanceWindow),
		LogDeliveryConfigurations:   logDelivery(props.SlowLog, props.EngineLog),
	})
	rg.ApplyRemovalPolicy(props.RemovalPolicy, nil)
	subnetGroup.ApplyRemovalPolicy(props.GroupRemovalPolicy, nil)
	paramGroup.ApplyRemovalPolicy(props.GroupRemovalPolicy, nil)
	return &ReplicationGroup{
		Construct:   c,
		Resource:    rg,
		memberCount: 1 + props.Replicas,
		hasReplicas: ha,
	}
}

// ReplicationGroupID is the ID CloudFormation gave the group.
func (r *ReplicationGroup) ReplicationGroupID() *string { return r.Resource.Ref() }

// PrimaryEndpointAddress is the host name clients write to.
func (r *ReplicationGroup) PrimaryEndpointAddress() *string {
	return r.Resource.AttrPrimaryEndPointAddress()
}

// PrimaryEndpointPort is the port of the primary endpoint.
func (r *ReplicationGroup) PrimaryEndpointPort() *string { return r.Resource.AttrPrimaryEndPointPort() }

// HasReplicas reports whether the group has read replicas (and so automatic
// failover and a replication-lag metric).
func (r *ReplicationGroup) HasReplicas() bool { return r.hasReplicas }

// MemberIDs are the cache-cluster IDs of the nodes (ID-001, ID-002, ...), the
// dimension ElastiCache publishes node metrics under. Which one is primary
// changes on failover, so alarms watch all of them.
func (r *ReplicationGroup) MemberIDs() []*string {
	ids := make([]*string, r.memberCount)
	for i := range ids {
		ids[i] = awscdk.Fn_Join(jsii.String(""), &[]*string{r.ReplicationGroupID(), jsii.String(fmt.Sprintf("-%03d", i+1))})
	}
	return ids
}

// Metric returns the named AWS/ElastiCache metric of one node (see
// MemberIDs) with the given statistic over five minutes.
func (r *ReplicationGroup) Metric(name string, member *string, statistic string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/ElastiCache"),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"CacheClusterId": member},
		Statistic:     jsii.String(statistic),
		Period:        awscdk.Duration_Minutes(jsii.Number(5)),
	})
}

// MaxOverMembers combines one metric of every node into the worst value,
// so an alarm follows the primary through failovers.
func (r *ReplicationGroup) MaxOverMembers(name, statistic, label string) awscloudwatch.IMetric {
	members := r.MemberIDs()
	if len(members) == 1 {
		return r.Metric(name, members[0], statistic)
	}
	using := map[string]awscloudwatch.IMetric{}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = fmt.Sprintf("m%d", i+1)
		using[ids[i]] = r.Metric(name, m, statistic)
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String("MAX([" + strings.Join(ids, ", ") + "])"),
		UsingMetrics: &using,
		Label:        jsii.String(label),
		Period:       awscdk.Duration_Minutes(jsii.Number(5)),
	})
}

// MetricEngineCPUUtilization is the Redis thread's CPU, the worst node.
func (r *ReplicationGroup) MetricEngineCPUUtilization() awscloudwatch.IMetric {
	return r.MaxOverMembers("EngineCPUUtilization", "Average", "Redis engine CPU %")
}

// MetricMemoryUsage is the share of maxmemory in use, the worst node.
func (r *ReplicationGroup) MetricMemoryUsage() awscloudwatch.IMetric {
	return r.MaxOverMembers("DatabaseMemoryUsagePercentage", "Average", "Redis memory used %")
}

// MetricEvictions counts keys evicted for lack of memory, the worst node.
func (r *ReplicationGroup) MetricEvictions() awscloudwatch.IMetric {
	return r.MaxOverMembers("Evictions", "Sum", "Redis evictions")
}

// MetricCurrentConnections counts client connections, the busiest node.
func (r *ReplicationGroup) MetricCurrentConnections() awscloudwatch.IMetric {
	return r.MaxOverMembers("CurrConnections", "Maximum", "Redis connections")
}

// MetricReplicationLag is the replicas' lag behind the primary in seconds,
// or nil when the group has no replicas.
func (r *ReplicationGroup) MetricReplicationLag() awscloudwatch.IMetric {
	if !r.hasReplicas {
		return nil
	}
	return r.MaxOverMembers("ReplicationLag", "Maximum", "Redis replication lag (s)")
}

// toAny converts string tokens for L1 properties typed as lists of any.
func toAny(ss []*string) *[]any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return &out
}

// logDelivery sends the slow log and the engine log, as JSON, to their log
// groups; a nil group is not delivered.
func logDelivery(slowLog, engineLog awslogs.ILogGroup) *[]any {
	var logs []any
	for _, l := range []struct {
		typ   string
		group awslogs.ILogGroup
	}{{"slow-log", slowLog}, {"engine-log", engineLog}} {
		if l.group == nil {
			continue
		}
		logs = append(logs, &awselasticache.CfnReplicationGroup_LogDeliveryConfigurationRequestProperty{
			DestinationType: jsii.String("cloudwatch-logs"),
			LogFormat:       jsii.String("json"),
			LogType:         jsii.String(l.typ),
			DestinationDetails: &awselasticache.CfnReplicationGroup_DestinationDetailsProperty{
				CloudWatchLogsDetails: &awselasticache.CfnReplicationGroup_CloudWatchLogsDestinationDetailsProperty{LogGroup: l.group.LogGroupName()},
			},
		})
	}
	return &logs
}
