package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheStack(t *testing.T) {
	runChecks(t, "Cache", []templateCheck{
		{"a replication group, never a bare cache cluster", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.ResourceCountIs(jsii.String("AWS::ElastiCache::ReplicationGroup"), times(1))
			tpl.ResourceCountIs(jsii.String("AWS::ElastiCache::CacheCluster"), times(0))
		}},
		{"Redis pinned and sized as configured", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			ha := cfg.Cache.Replicas > 0
			tpl.HasResourceProperties(jsii.String("AWS::ElastiCache::ReplicationGroup"), map[string]any{
				"Engine":                   "redis",
				"EngineVersion":            cfg.Cache.EngineVersion,
				"CacheNodeType":            cfg.Cache.NodeType,
				"NumCacheClusters":         1 + cfg.Cache.Replicas,
				"AutomaticFailoverEnabled": ha,
				"MultiAZEnabled":           ha,
				"Port":                     6379,
			})
		}},
		{"TLS required, encrypted at rest with the key, RBAC users instead of an AUTH token", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ElastiCache::ReplicationGroup"), map[string]any{
				"TransitEncryptionEnabled": true,
				"TransitEncryptionMode":    "required",
				"AtRestEncryptionEnabled":  true,
				"KmsKeyId":                 map[string]any{"Fn::ImportValue": matching("secrets:.*Key")},
				"UserGroupIds":             []any{map[string]any{"Ref": "RedisUsers"}},
				"AuthToken":                assertions.Match_Absent(),
			})
			tpl.HasResourceProperties(jsii.String("AWS::ElastiCache::UserGroup"), map[string]any{
				"Engine": "redis", "UserGroupId": "webapp-" + cfg.Environment,
				"UserIds": []any{map[string]any{"Ref": matching("^RedisDefaultUser")}, map[string]any{"Ref": matching("^RedisAppUser")}},
			})
			password := func(secret, key string) map[string]any {
				return map[string]any{"Fn::Join": []any{"", []any{
					"{{resolve:secretsmanager:", map[string]any{"Fn::ImportValue": matching("secrets:.*" + secret)}, ":SecretString:" + key + "::}}",
				}}}
			}
			tpl.HasResourceProperties(jsii.String("AWS::ElastiCache::User"), map[string]any{
				"UserName": "default", "AccessString": config.RedisDisabledAccess,
				"AuthenticationMode": map[string]any{"Type": "password", "Passwords": []any{password("RedisAuthToken", "token")}},
			})
			tpl.HasResourceProperties(jsii.String("AWS::ElastiCache::User"), map[string]any{
				"UserName": cfg.Cache.AppUsername, "AccessString": config.RedisAppAccess,
				"AuthenticationMode": map[string]any{"Type": "password", "Passwords": []any{password("RedisCredentials", "password")}},
			})
		}},
		{"subnet group, security group and parameter group", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ElastiCache::ReplicationGroup"), map[string]any{
				"CacheSubnetGroupName":    map[string]any{"Ref": matching("^RedisSubnetGroup")},
				"CacheParameterGroupName": map[string]any{"Ref": matching("^RedisParameterGroup")},
				"SecurityGroupIds":        []any{map[string]any{"Fn::ImportValue": matching("network:.*CacheSecurityGroup")}},
			})
			tpl.HasResourceProperties(jsii.String("AWS::ElastiCache::ParameterGroup"), map[string]any{
				"CacheParameterGroupFamily": cfg.Cache.RedisFamily(),
				"Properties":                map[string]any{"maxmemory-policy": "volatile-lru", "timeout": "300"},
			})
			tpl.ResourceCountIs(jsii.String("AWS::ElastiCache::SubnetGroup"), times(1))
		}},
		{"snapshots and maintenance as configured, final snapshot where data is kept", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResource(jsii.String("AWS::ElastiCache::ReplicationGroup"), map[string]any{
				"Properties": map[string]any{
					"SnapshotRetentionLimit":     cfg.Cache.SnapshotRetentionDays,
					"SnapshotWindow":             cfg.Cache.SnapshotWindow,
					"PreferredMaintenanceWindow": cfg.Cache.MaintenanceWindow,
				},
				"DeletionPolicy": policyFor(cfg, "Snapshot"),
			})
		}},
		{"slow and engine logs to log groups with retention", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			for _, typ := range []string{"slow-log", "engine-log"} {
				tpl.HasResourceProperties(jsii.String("AWS::ElastiCache::ReplicationGroup"), map[string]any{
					"LogDeliveryConfigurations": assertions.Match_ArrayWith(&[]any{map[string]any{
						"LogType": typ, "LogFormat": "json", "DestinationType": "cloudwatch-logs",
						"DestinationDetails": map[string]any{"CloudWatchLogsDetails": map[string]any{"LogGroup": map[string]any{"Ref": assertions.Match_AnyValue()}}},
					}}),
				})
			}
			tpl.ResourcePropertiesCountIs(jsii.String("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": cfg.Cache.LogRetentionDays}, times(2))
		}},
		{"outputs redis_endpoint", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasOutput(jsii.String("RedisEndpoint"), map[string]any{
				"Description": matching("^redis_endpoint: "),
				"Value": map[string]any{"Fn::Join": []any{":", []any{
					map[string]any{"Fn::GetAtt": []any{matching("^Redis"), "PrimaryEndPoint.Address"}},
					map[string]any{"Fn::GetAtt": []any{matching("^Redis"), "PrimaryEndPoint.Port"}},
				}}},
			})
		}},
	})
}

// TestRedisMetrics checks that the replication-group construct's metrics
// name the right namespace and dimension, and combine every node where the
// group has several (the primary moves on failover).
func TestRedisMetrics(t *testing.T) {
	for _, env := range config.Names() {
		s := envs[env]
		require.NotNil(t, s.platform.Cache, "%s has no Cache stack", env)
		rg := s.platform.Cache.Redis
		stack := s.platform.Cache.Stack
		metrics := map[string]awscloudwatch.IMetric{
			"EngineCPUUtilization":          rg.MetricEngineCPUUtilization(),
			"DatabaseMemoryUsagePercentage": rg.MetricMemoryUsage(),
			"Evictions":                     rg.MetricEvictions(),
			"CurrConnections":               rg.MetricCurrentConnections(),
		}
		lag := rg.MetricReplicationLag()
		assert.Equal(t, s.cfg.Cache.Replicas > 0, lag != nil, "%s: a replication-lag metric exists exactly where replicas do", env)
		if lag != nil {
			metrics["ReplicationLag"] = lag
		}
		for name, m := range metrics {
			var stats []*awscloudwatch.MetricStatConfig
			mc := m.ToMetricConfig()
			if mc.MathExpression != nil {
				assert.Equal(t, fmt.Sprintf("MAX([%s])", memberList(1+s.cfg.Cache.Replicas)), *mc.MathExpression.Expression, "%s %s: expression", env, name)
				for _, u := range *mc.MathExpression.UsingMetrics {
					stats = append(stats, u.ToMetricConfig().MetricStat)
				}
			} else {
				stats = append(stats, mc.MetricStat)
			}
			assert.Len(t, stats, 1+s.cfg.Cache.Replicas, "%s %s: one node metric per node", env, name)
			for _, st := range stats {
				dims := *st.Dimensions
				resolved, _ := json.Marshal(stack.Resolve(dims[0].Value))
				assert.Equal(t, "AWS/ElastiCache", *st.Namespace, "%s %s", env, name)
				assert.Equal(t, name, *st.MetricName, "%s %s", env, name)
				assert.Equal(t, "CacheClusterId", *dims[0].Name, "%s %s", env, name)
				assert.Regexp(t, `^\{"Fn::Join":\["",\[\{"Ref":"Redis[0-9A-F]{8}"\},"-00[1-6]"\]\]\}$`, string(resolved), "%s %s: CacheClusterId=<group>-00N", env, name)
			}
		}
	}
}

func memberList(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%d", i+1)
	}
	return strings.Join(ids, ", ")
}
