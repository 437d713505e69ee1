package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
)

// expectedAlarm is one alarm as the template must render it: where it is,
// what it watches (namespace/metric, or the math expression), the threshold
// and the comparison.
type expectedAlarm struct {
	stack, id  string
	watches    string
	threshold  float64
	comparison string
}

func expectedAlarms(cfg config.Config) []expectedAlarm {
	t := cfg.Monitoring.Thresholds
	const gt, ge, lt = "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold"
	// With two target groups (a progressive rollout) the target alarms
	// watch both, so the new deployment's tasks are watched wherever they
	// are.
	errors5xx, unhealthy, response := "AWS/ApplicationELB/HTTPCode_Target_5XX_Count", "AWS/ApplicationELB/UnHealthyHostCount", "AWS/ApplicationELB/TargetResponseTime"
	if cfg.Service.Rollout.Strategy != "ROLLING" {
		both := "([FILL(g0, 0), FILL(g1, 0)])"
		errors5xx, unhealthy, response = "SUM"+both, "MAX"+both+" of "+unhealthy, "MAX"+both+" of "+response
	}
	alarms := []expectedAlarm{
		{"Service", "Target5xxAlarm", errors5xx, t.Target5xxCount, ge},
		{"Service", "UnhealthyTargetsAlarm", unhealthy, t.UnhealthyTargets, ge},
		{"Monitoring", "Alb5xxRate", "100 * FILL(errors, 0) / FILL(requests, 1)", t.ALB5xxPercent, gt},
		{"Monitoring", "TargetResponseTimeP95", response, t.P95ResponseSeconds, gt},
		{"Monitoring", "TargetResponseTimeP99", response, t.P99ResponseSeconds, gt},
		{"Monitoring", "ServiceCpu", "AWS/ECS/CPUUtilization", t.ServiceCPUPercent, gt},
		{"Monitoring", "ServiceMemory", "AWS/ECS/MemoryUtilization", t.ServiceMemoryPercent, gt},
		{"Monitoring", "RunningTasksBelowMinimum", "ECS/ContainerInsights/RunningTaskCount", float64(cfg.Service.MinTasks), lt},
		{"Monitoring", "ClusterCpuReservation", "AWS/ECS/CPUReservation", t.ClusterCPUReservationPercent, gt},
		{"Monitoring", "ClusterMemoryReservation", "AWS/ECS/MemoryReservation", t.ClusterMemoryReservationPercent, gt},
		{"Monitoring", "DatabaseCpu", "AWS/RDS/CPUUtilization", t.DatabaseCPUPercent, gt},
		{"Monitoring", "DatabaseFreeableMemory", "AWS/RDS/FreeableMemory", t.DatabaseFreeableMemoryMiB * 1024 * 1024, lt},
		{"Monitoring", "DatabaseFreeStorage", "AWS/RDS/FreeStorageSpace", t.DatabaseFreeStorageGiB * 1024 * 1024 * 1024, lt},
		{"Monitoring", "DatabaseConnections", "AWS/RDS/DatabaseConnections", t.DatabaseConnections, gt},
		{"Monitoring", "DatabaseReadLatency", "AWS/RDS/ReadLatency", t.DatabaseLatencyMillis / 1000, gt},
		{"Monitoring", "DatabaseWriteLatency", "AWS/RDS/WriteLatency", t.DatabaseLatencyMillis / 1000, gt},
	}
	redis := func(id, metric string, threshold float64) expectedAlarm {
		watches := "AWS/ElastiCache/" + metric
		if cfg.Cache.Replicas > 0 {
			watches = "MAX([" + memberList(1+cfg.Cache.Replicas) + "]) of AWS/ElastiCache/" + metric
		}
		return expectedAlarm{"Monitoring", id, watches, threshold, gt}
	}
	alarms = append(alarms,
		redis("RedisEngineCpu", "EngineCPUUtilization", t.RedisEngineCPUPercent),
		redis("RedisMemory", "DatabaseMemoryUsagePercentage", t.RedisMemoryPercent),
		redis("RedisEvictions", "Evictions", t.RedisEvictions),
		redis("RedisConnections", "CurrConnections", t.RedisConnections),
	)
	if cfg.Cache.Replicas > 0 {
		alarms = append(alarms, redis("RedisReplicationLag", "ReplicationLag", t.RedisReplicationLagSeconds))
	}
	if cfg.LoadBalancer.Firewall.Enabled {
		alarms = append(alarms, expectedAlarm{"Monitoring", "FirewallBlockedRequests", "AWS/WAFV2/BlockedRequests", t.FirewallBlockedRequests, gt})
	}
	return alarms
}

// describeAlarm renders what an alarm resource watches in the form of
// expectedAlarm.watches.
func describeAlarm(props map[string]any) string {
	if name, ok := props["MetricName"]; ok {
		return fmt.Sprintf("%v/%v", props["Namespace"], name)
	}
	var expr string
	var inner []string
	for _, m := range cfn.List(props["Metrics"]) {
		m := cfn.Object(m)
		if e, ok := m["Expression"]; ok {
			expr = fmt.Sprint(e)
			continue
		}
		stat := cfn.Object(cfn.Object(m["MetricStat"])["Metric"])
		inner = append(inner, fmt.Sprintf("%v/%v", stat["Namespace"], stat["MetricName"]))
	}
	sort.Strings(inner)
	if strings.HasPrefix(expr, "MAX(") && len(inner) > 0 && inner[0] == inner[len(inner)-1] {
		return expr + " of " + inner[0]
	}
	return expr
}

// TestAlarms compares every alarm of every environment with the expected
// table: what it watches, threshold, comparison, and that it notifies the
// alarm topic on ALARM and on OK. An alarm that is missing, extra or
// different fails.
func TestAlarms(t *testing.T) {
	for _, env := range config.Names() {
		s := envs[env]
		got := map[string]map[string]any{}
		for _, stack := range []string{"Service", "Monitoring"} {
			for id, r := range cfn.Resources(s.templates[stack], "AWS::CloudWatch::Alarm") {
				got[stack+"/"+cfn.Unhashed(id)] = cfn.Props(r)
			}
		}
		for _, want := range expectedAlarms(s.cfg) {
			key := want.stack + "/" + want.id
			props, ok := got[key]
			if !assert.True(t, ok, "%s: alarm %s missing", env, key) {
				continue
			}
			delete(got, key)
			assert.Equal(t, want.watches, describeAlarm(props), "%s: what %s watches", env, key)
			assert.Equal(t, want.threshold, props["Threshold"], "%s: %s threshold", env, key)
			assert.Equal(t, want.comparison, props["ComparisonOperator"], "%s: %s comparison", env, key)
			for _, actions := range []string{"AlarmActions", "OKActions"} {
				assert.Regexp(t, `^\[\{"Fn::ImportValue":"`+s.cfg.AppName+"-"+s.cfg.Environment+`-alerts:ExportsOutputRefAlarmTopic[0-9A-F]{8}[^"]*"\}\]$`, cfn.JSON(props[actions]),
					"%s: %s %s notifies only the alarm topic of the Alerts stack", env, key, actions)
			}
		}
		assert.Empty(t, got, "%s: unexpected alarms; add them to expectedAlarms", env)
	}
}

func TestDashboardHasOneRowPerLayer(t *testing.T) {
	for _, env := range config.Names() {
		for id, d := range cfn.Resources(envs[env].templates["Monitoring"], "AWS::CloudWatch::Dashboard") {
			body := cfn.JSON(cfn.Props(d)["DashboardBody"])
			last := -1
			rows := []string{"LoadBalancer", "Service", "Cluster", "Database", "Cache"}
			if envs[env].cfg.LoadBalancer.Firewall.Enabled {
				rows = append([]string{"Firewall"}, rows...)
			}
			for _, layer := range rows {
				i := strings.Index(body, "### "+layer)
				assert.Greater(t, i, last, "%s/%s: row %q missing or out of order", env, id, layer)
				last = i
			}
			assert.Equal(t, len(expectedAlarms(envs[env].cfg)), strings.Count(body, `\"annotations\":{\"alarms\"`), "%s/%s: one alarm widget per alarm", env, id)
		}
	}
}
