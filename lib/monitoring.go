package lib

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
	"github.com/example/platform/lib/redis"
)

// MonitoringStackProps names what the Monitoring stack watches.
type MonitoringStackProps struct {
	awscdk.StackProps
	Deployment Deployment
	Thresholds config.Thresholds
	// MinTasks is the service's auto scaling minimum: fewer running tasks
	// is an alarm.
	MinTasks     int
	AlarmTopic   awssns.ITopic
	LoadBalancer elbv2.IApplicationLoadBalancer
	// BlockedRequests is the web ACL's blocked-request metric; nil without
	// the firewall.
	BlockedRequests awscloudwatch.IMetric
	TargetGroup     elbv2.ApplicationTargetGroup
	// GreenTargetGroup is the second group of a progressive rollout; nil
	// for rolling deployments.
	GreenTargetGroup elbv2.ApplicationTargetGroup
	Cluster          awsecs.Cluster
	Service          awsecs.Ec2Service
	Database         awsrds.IDatabaseInstance
	Redis            *redis.ReplicationGroup
	// DeploymentAlarms are created by the Service stack; the dashboard
	// shows them with the rest.
	DeploymentAlarms []awscloudwatch.IAlarm
}

// MonitoringStack owns the alarms that are not deployment alarms and the
// dashboard.
type MonitoringStack struct {
	awscdk.Stack
}

// row is one layer of the dashboard: its title, the widgets it shows
// before its alarms, and the alarms this stack creates for it.
type row struct {
	layer  string
	extra  []awscloudwatch.IWidget
	alarms []alarm
}

// NewMonitoringStack creates the alarms and the dashboard: one row per
// layer with its alarms, the deployment alarms in the load balancer's row.
// Metrics come from the constructs' own metric methods.
func NewMonitoringStack(scope constructs.Construct, id string, props *MonitoringStackProps) *MonitoringStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	deployment := []awscloudwatch.IWidget{deploymentHealth(props)}
	for _, a := range props.DeploymentAlarms {
		deployment = append(deployment, awscloudwatch.NewAlarmWidget(&awscloudwatch.AlarmWidgetProps{Alarm: a, Title: a.AlarmName(), Width: jsii.Number(6)}))
	}
	// Top to bottom; the Firewall row shows only where there is a firewall.
	rows := []row{
		{layer: "Firewall", alarms: firewallAlarms(props)},
		{layer: "LoadBalancer", extra: deployment, alarms: loadBalancerAlarms(props)},
		{layer: "Service", alarms: serviceAlarms(props)},
		{layer: "Cluster", alarms: clusterAlarms(props)},
		{layer: "Database", alarms: databaseAlarms(props)},
		{layer: "Cache", alarms: cacheAlarms(props)},
	}
	dashboard := awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
	})
	for _, r := range rows {
		if len(r.alarms) == 0 {
			continue
		}
		widgets := append([]awscloudwatch.IWidget{
			awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{Markdown: jsii.String("### " + r.layer), Width: jsii.Number(24), Height: jsii.Number(1)}),
		}, r.extra...)
		for _, spec := range r.alarms {
			a := newAlarm(stack, props.AlarmTopic, spec)
			widgets = append(widgets, awscloudwatch.NewAlarmWidget(&awscloudwatch.AlarmWidgetProps{Alarm: a, Title: jsii.String(spec.description), Width: jsii.Number(6)}))
		}
		dashboard.AddWidgets(widgets...)
	}
	return &MonitoringStack{Stack: stack}
}

const (
	gt = awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	lt = awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD
)

// firewallAlarms watch the requests the web ACL blocks: a sudden rise is
// an attack, or a rule that turned on real users.
func firewallAlarms(props *MonitoringStackProps) []alarm {
	if props.BlockedRequests == nil {
		return nil
	}
	t := props.Thresholds
	return []alarm{
		{id: "FirewallBlockedRequests", description: fmt.Sprintf("The web ACL blocked more than %g requests in five minutes", t.FirewallBlockedRequests),
			metric: props.BlockedRequests, threshold: t.FirewallBlockedRequests, comparison: gt},
	}
}

// loadBalancerAlarms watch the load balancer's own errors and the response time.
func loadBalancerAlarms(props *MonitoringStackProps) []alarm {
	t := props.Thresholds
	alb := props.LoadBalancer.Metrics()
	responseTime := func(s string) awscloudwatch.IMetric {
		return acrossGroups(targetGroups(props.TargetGroup, props.GreenTargetGroup), "MAX", s+" response time", stat(s, 5),
			func(m elbv2.IApplicationTargetGroupMetrics, o *awscloudwatch.MetricOptions) awscloudwatch.IMetric {
				return m.TargetResponseTime(o)
			})
	}
	return []alarm{
		{id: "Alb5xxRate", description: fmt.Sprintf("The load balancer answers more than %g%% of requests with its own 5xx", t.ALB5xxPercent),
			metric: awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
				Expression: jsii.String("100 * FILL(errors, 0) / FILL(requests, 1)"),
				UsingMetrics: &map[string]awscloudwatch.IMetric{
					"errors":   alb.HttpCodeElb(elbv2.HttpCodeElb_ELB_5XX_COUNT, stat("Sum", 5)),
					"requests": alb.RequestCount(stat("Sum", 5)),
				},
				Label:  jsii.String("ALB 5xx %"),
				Period: minutes(5),
			}),
			threshold: t.ALB5xxPercent, comparison: gt},
		{id: "TargetResponseTimeP95", description: fmt.Sprintf("p95 response time above %g s", t.P95ResponseSeconds),
			metric: responseTime("p95"), threshold: t.P95ResponseSeconds, comparison: gt},
		{id: "TargetResponseTimeP99", description: fmt.Sprintf("p99 response time above %g s", t.P99ResponseSeconds),
			metric: responseTime("p99"), threshold: t.P99ResponseSeconds, comparison: gt},
	}
}

// serviceAlarms watch utilization and the running-task count.
func serviceAlarms(props *MonitoringStackProps) []alarm {
	t := props.Thresholds
	return []alarm{
		{id: "ServiceCpu", description: fmt.Sprintf("Service CPU above %g%%", t.ServiceCPUPercent),
			metric: props.Service.MetricCpuUtilization(stat("Average", 5)), threshold: t.ServiceCPUPercent, comparison: gt},
		{id: "ServiceMemory", description: fmt.Sprintf("Service memory above %g%%", t.ServiceMemoryPercent),
			metric: props.Service.MetricMemoryUtilization(stat("Average", 5)), threshold: t.ServiceMemoryPercent, comparison: gt},
		// The ECS constructs have no method for Container Insights'
		// task count, so this metric is named by hand.
		{id: "RunningTasksBelowMinimum", description: fmt.Sprintf("Fewer than %d tasks running (the auto scaling minimum)", props.MinTasks),
			metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace:  jsii.String("ECS/ContainerInsights"),
				MetricName: jsii.String("RunningTaskCount"),
				DimensionsMap: &map[string]*string{
					"ClusterName": props.Cluster.ClusterName(),
					"ServiceName": props.Service.ServiceName(),
				},
				Statistic: jsii.String("Minimum"),
				Period:    minutes(1),
			}),
			threshold: float64(props.MinTasks), comparison: lt,
			periods: 5, datapoints: 5, missing: awscloudwatch.TreatMissingData_BREACHING},
	}
}

// clusterAlarms watch how much of the instances the tasks reserve.
func clusterAlarms(props *MonitoringStackProps) []alarm {
	t := props.Thresholds
	return []alarm{
		{id: "ClusterCpuReservation", description: fmt.Sprintf("Tasks reserve more than %g%% of the instances' CPU", t.ClusterCPUReservationPercent),
			metric: props.Cluster.MetricCpuReservation(stat("Maximum", 5)), threshold: t.ClusterCPUReservationPercent, comparison: gt},
		{id: "ClusterMemoryReservation", description: fmt.Sprintf("Tasks reserve more than %g%% of the instances' memory", t.ClusterMemoryReservationPercent),
			metric: props.Cluster.MetricMemoryReservation(stat("Maximum", 5)), threshold: t.ClusterMemoryReservationPercent, comparison: gt},
	}
}

// databaseAlarms watch RDS resources and latency.
func databaseAlarms(props *MonitoringStackProps) []alarm {
	t := props.Thresholds
	return []alarm{
		{id: "DatabaseCpu", description: fmt.Sprintf("Database CPU above %g%%", t.DatabaseCPUPercent),
			metric: props.Database.MetricCPUUtilization(stat("Average", 5)), threshold: t.DatabaseCPUPercent, comparison: gt},
		{id: "DatabaseFreeableMemory", description: fmt.Sprintf("Database freeable memory below %g MiB", t.DatabaseFreeableMemoryMiB),
			metric: props.Database.MetricFreeableMemory(stat("Minimum", 5)), threshold: t.DatabaseFreeableMemoryMiB * 1024 * 1024, comparison: lt},
		{id: "DatabaseFreeStorage", description: fmt.Sprintf("Database free storage below %g GiB", t.DatabaseFreeStorageGiB),
			metric: props.Database.MetricFreeStorageSpace(stat("Minimum", 5)), threshold: t.DatabaseFreeStorageGiB * 1024 * 1024 * 1024, comparison: lt},
		{id: "DatabaseConnections", description: fmt.Sprintf("More than %g database connections", t.DatabaseConnections),
			metric: props.Database.MetricDatabaseConnections(stat("Maximum", 5)), threshold: t.DatabaseConnections, comparison: gt},
		{id: "DatabaseReadLatency", description: fmt.Sprintf("Database read latency above %g ms", t.DatabaseLatencyMillis),
			metric: props.Database.Metric(jsii.String("ReadLatency"), stat("Average", 5)), threshold: t.DatabaseLatencyMillis / 1000, comparison: gt},
		{id: "DatabaseWriteLatency", description: fmt.Sprintf("Database write latency above %g ms", t.DatabaseLatencyMillis),
			metric: props.Database.Metric(jsii.String("WriteLatency"), stat("Average", 5)), threshold: t.DatabaseLatencyMillis / 1000, comparison: gt},
	}
}

// cacheAlarms watch the worst Redis node, and replication lag where
// replicas exist.
func cacheAlarms(props *MonitoringStackProps) []alarm {
	t := props.Thresholds
	alarms := []alarm{
		{id: "RedisEngineCpu", description: fmt.Sprintf("Redis engine CPU above %g%% on a node", t.RedisEngineCPUPercent),
			metric: props.Redis.MetricEngineCPUUtilization(), threshold: t.RedisEngineCPUPercent, comparison: gt},
		{id: "RedisMemory", description: fmt.Sprintf("Redis memory above %g%% on a node", t.RedisMemoryPercent),
			metric: props.Redis.MetricMemoryUsage(), threshold: t.RedisMemoryPercent, comparison: gt},
		{id: "RedisEvictions", description: fmt.Sprintf("More than %g keys evicted in five minutes on a node", t.RedisEvictions),
			metric: props.Redis.MetricEvictions(), threshold: t.RedisEvictions, comparison: gt},
		{id: "RedisConnections", description: fmt.Sprintf("More than %g Redis connections on a node", t.RedisConnections),
			metric: props.Redis.MetricCurrentConnections(), threshold: t.RedisConnections, comparison: gt},
	}
	if lag := props.Redis.MetricReplicationLag(); lag != nil {
		alarms = append(alarms, alarm{id: "RedisReplicationLag",
			description: fmt.Sprintf("A Redis replica lags more than %g s behind the primary", t.RedisReplicationLagSeconds),
			metric:      lag, threshold: t.RedisReplicationLagSeconds, comparison: gt})
	}
	return alarms
}

// deploymentHealth graphs the healthy and unhealthy tasks of each target
// group: during a progressive rollout the new deployment's tasks are the
// ones in the group that is not live.
func deploymentHealth(props *MonitoringStackProps) awscloudwatch.IWidget {
	var left []awscloudwatch.IMetric
	for i, g := range targetGroups(props.TargetGroup, props.GreenTargetGroup) {
		name := []string{"blue", "green"}[i]
		left = append(left,
			g.Metrics().HealthyHostCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Minimum"), Period: minutes(1), Label: jsii.String("healthy (" + name + ")")}),
			g.Metrics().UnhealthyHostCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: minutes(1), Label: jsii.String("unhealthy (" + name + ")")}))
	}
	return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Tasks behind the load balancer"), Left: &left, Width: jsii.Number(12)})
}
