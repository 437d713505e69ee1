package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
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
	alarms := []expectedAlarm{
		{"Service", "Target5xxAlarm", "AWS/ApplicationELB/HTTPCode_Target_5XX_Count", t.Target5xxCount, ge},
		{"Service", "UnhealthyTargetsAlarm", "AWS/ApplicationELB/UnHealthyHostCount", t.UnhealthyTargets, ge},
		{"Monitoring", "Alb5xxRate", "100 * FILL(errors, 0) / FILL(requests, 1)", t.ALB5xxPercent, gt},
		{"Monitoring", "TargetResponseTimeP95", "AWS/ApplicationELB/TargetResponseTime", t.P95ResponseSeconds, gt},
		{"Monitoring", "TargetResponseTimeP99", "AWS/ApplicationELB/TargetResponseTime", t.P99ResponseSeconds, gt},
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
	for _, m := range props["Metrics"].([]any) {
		m := m.(map[string]any)
		if e, ok := m["Expression"]; ok {
			expr = fmt.Sprint(e)
			continue
		}
		stat := m["MetricStat"].(map[string]any)["Metric"].(map[string]any)
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
			for id, r := range resources(s.templates[stack], "AWS::CloudWatch::Alarm") {
				got[stack+"/"+cdkHash.ReplaceAllString(id, "")] = r["Properties"].(map[string]any)
			}
		}
		for _, want := range expectedAlarms(s.cfg) {
			key := want.stack + "/" + want.id
			props, ok := got[key]
			if !ok {
				t.Errorf("%s: alarm %s missing", env, key)
				continue
			}
			delete(got, key)
			if w := describeAlarm(props); w != want.watches {
				t.Errorf("%s: %s watches %q, want %q", env, key, w, want.watches)
			}
			if props["Threshold"] != want.threshold || props["ComparisonOperator"] != want.comparison {
				t.Errorf("%s: %s is %v %v, want %s %v", env, key, props["ComparisonOperator"], props["Threshold"], want.comparison, want.threshold)
			}
			for _, actions := range []string{"AlarmActions", "OKActions"} {
				raw, _ := json.Marshal(props[actions])
				if !regexp.MustCompile(`^\[\{"Fn::ImportValue":"webapp-`+env+`-alerts:ExportsOutputRefAlarmTopic`).Match(raw) || len(props[actions].([]any)) != 1 {
					t.Errorf("%s: %s %s = %s, want only the alarm topic of the Alerts stack", env, key, actions, raw)
				}
			}
		}
		for key := range got {
			t.Errorf("%s: unexpected alarm %s; add it to expectedAlarms", env, key)
		}
	}
}

func TestDeploymentAlarmsRollBackTheService(t *testing.T) {
	runChecks(t, "Service", []templateCheck{
		{"the service rolls back on its deployment alarms and the circuit breaker", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ECS::Service"), map[string]any{
				"DeploymentConfiguration": assertions.Match_ObjectLike(&map[string]any{
					"Alarms": map[string]any{
						"AlarmNames": []any{map[string]any{"Ref": re("^Target5xxAlarm")}, map[string]any{"Ref": re("^UnhealthyTargetsAlarm")}},
						"Enable":     true, "Rollback": true,
					},
					"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true},
				}),
			})
			for _, name := range []string{"target-5xx", "unhealthy-targets"} {
				tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{"AlarmName": fmt.Sprintf("webapp-%s-%s", cfg.Environment, name)})
			}
		}},
	})
}

func TestRotationRedeploysTheService(t *testing.T) {
	runChecks(t, "Service", []templateCheck{
		{"rule on a new current version of this secret starts the state machine", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
				"EventPattern": map[string]any{
					"source":      []any{"aws.secretsmanager"},
					"detail-type": []any{"Secret Label Updated"},
					"resources":   []any{map[string]any{"Fn::ImportValue": re("database:.*CredentialsAttachment")}},
					"detail":      map[string]any{"labelUpdated": []any{"AWSCURRENT"}},
				},
				"State":   "ENABLED",
				"Targets": []any{assertions.Match_ObjectLike(&map[string]any{"Arn": map[string]any{"Ref": re("^RedeployOnRotation")}})},
			})
		}},
		{"the state machine forces a new deployment of this service", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::StepFunctions::StateMachine"), map[string]any{
				"DefinitionString": map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{
					re(`:states:::aws-sdk:ecs:updateService`),
					map[string]any{"Fn::ImportValue": re("cluster:.*Cluster")},
					re(`"ForceNewDeployment":true,"Service":`),
					map[string]any{"Fn::GetAtt": []any{"ServiceD69D759B", "Name"}},
				})}},
				"LoggingConfiguration": assertions.Match_ObjectLike(&map[string]any{"Level": "ALL", "IncludeExecutionData": false}),
				"TracingConfiguration": map[string]any{"Enabled": true},
			})
		}},
		{"permissions are scoped to this service and this state machine", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
				"Roles": []any{map[string]any{"Ref": re("^RedeployOnRotationRole")}},
				"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": assertions.Match_ArrayWith(&[]any{
					map[string]any{"Effect": "Allow", "Action": "ecs:UpdateService", "Resource": map[string]any{"Ref": "ServiceD69D759B"}},
				})},
			})
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
				"Roles": []any{map[string]any{"Ref": re("^RedeployOnRotationEventsRole")}},
				"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
					map[string]any{"Effect": "Allow", "Action": "states:StartExecution", "Resource": map[string]any{"Ref": re("^RedeployOnRotation[0-9A-F]{8}$")}},
				}},
			})
		}},
	})
}

// TestNoOtherRoleMayUpdateTheService makes sure ecs:UpdateService appears
// only in the redeploy state machine's policy.
func TestNoOtherRoleMayUpdateTheService(t *testing.T) {
	for _, env := range config.Names() {
		for stack, tpl := range envs[env].templates {
			for id, p := range resources(tpl, "AWS::IAM::Policy") {
				raw, _ := json.Marshal(p)
				if strings.Contains(string(raw), "ecs:UpdateService") && !strings.HasPrefix(id, "RedeployOnRotationRoleDefaultPolicy") {
					t.Errorf("%s/%s: %s may call ecs:UpdateService", env, stack, id)
				}
			}
		}
	}
}

// TestEveryLogGroupHasRetention covers tasks, flow logs, Redis, RDS
// exports and every function: a log group without a retention, a function
// without an explicit log group, or a rotation function without its
// pre-created group fails.
func TestEveryLogGroupHasRetention(t *testing.T) {
	for _, env := range config.Names() {
		total := 0
		for stack, tpl := range envs[env].templates {
			groups := resources(tpl, "AWS::Logs::LogGroup")
			names := map[string]bool{}
			for id, g := range groups {
				total++
				props := g["Properties"].(map[string]any)
				if _, ok := props["RetentionInDays"]; !ok {
					t.Errorf("%s/%s: log group %s has no retention", env, stack, id)
				}
				if n, ok := props["LogGroupName"].(string); ok {
					names[n] = true
				}
			}
			for id, fn := range resources(tpl, "AWS::Lambda::Function") {
				lc, _ := fn["Properties"].(map[string]any)["LoggingConfig"].(map[string]any)
				ref, _ := lc["LogGroup"].(map[string]any)
				if _, ok := groups[fmt.Sprint(ref["Ref"])]; !ok {
					t.Errorf("%s/%s: function %s logs to %v, want a log group of this template", env, stack, id, lc["LogGroup"])
				}
			}
			for id, rs := range resources(tpl, "AWS::SecretsManager::RotationSchedule") {
				hosted, _ := rs["Properties"].(map[string]any)["HostedRotationLambda"].(map[string]any)
				name, _ := hosted["RotationLambdaName"].(string)
				if !names["/aws/lambda/"+name] {
					t.Errorf("%s/%s: rotation function %q of %s has no log group /aws/lambda/%s with a retention", env, stack, name, id, name)
				}
			}
		}
		if total < 8 {
			t.Errorf("%s: found %d log groups, want at least flow logs, RDS exports, Redis, tasks, rotation, redeploy and functions", env, total)
		}
	}
}

func TestDashboardHasOneRowPerLayer(t *testing.T) {
	for _, env := range config.Names() {
		for id, d := range resources(envs[env].templates["Monitoring"], "AWS::CloudWatch::Dashboard") {
			body, _ := json.Marshal(d["Properties"].(map[string]any)["DashboardBody"])
			last := -1
			for _, layer := range []string{"LoadBalancer", "Service", "Cluster", "Database", "Cache"} {
				i := strings.Index(string(body), "### "+layer)
				if i < 0 || i < last {
					t.Errorf("%s/%s: row %q missing or out of order", env, id, layer)
				}
				last = i
			}
			if n := strings.Count(string(body), `\"annotations\":{\"alarms\"`); n != len(expectedAlarms(envs[env].cfg)) {
				t.Errorf("%s/%s: %d alarm widgets, want one per alarm (%d)", env, id, n, len(expectedAlarms(envs[env].cfg)))
			}
		}
	}
}

func TestAlarmTopicIsEncryptedAndSubscribesEmails(t *testing.T) {
	runChecks(t, "Alerts", []templateCheck{
		{"topic encrypted with a key CloudWatch may use", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{"KmsMasterKeyId": map[string]any{"Fn::GetAtt": []any{re("^TopicKey"), "Arn"}}})
			tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
				"EnableKeyRotation": true,
				"KeyPolicy": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"}, "Action": []any{"kms:Decrypt", "kms:GenerateDataKey*"},
				})})}),
			})
			tpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), count(len(cfg.Monitoring.AlarmEmails)))
		}},
	})

	// The prod preset subscribes its placeholder; the prod-image variant,
	// deployed to a real account, subscribes two real addresses.
	tpl := template(t, "prod-image", "Alerts")
	for _, email := range []string{"oncall@acme.io", "ops@acme.io"} {
		check(t, "subscription of "+email, func() {
			tpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
				"Protocol": "email", "Endpoint": email, "TopicArn": map[string]any{"Ref": re("^AlarmTopic")},
			})
		})
	}
}
