package main

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
)

func TestLoadBalancerStack(t *testing.T) {
	runChecks(t, "LoadBalancer", []templateCheck{
		{"internet-facing ALB in the public subnets with the ALB security group", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::LoadBalancer"), map[string]any{
				"Scheme":         "internet-facing",
				"Type":           "application",
				"SecurityGroups": []any{map[string]any{"Fn::ImportValue": matching("network:.*LoadBalancerSecurityGroup")}},
				"Subnets":        assertions.Match_ArrayWith(&[]any{map[string]any{"Fn::ImportValue": matching("network:.*PublicSubnet")}}),
			})
			for _, key := range []string{"routing.http.drop_invalid_header_fields.enabled", "access_logs.s3.enabled", "deletion_protection.enabled"} {
				found := tpl.FindResources(jsii.String("AWS::ElasticLoadBalancingV2::LoadBalancer"), map[string]any{"Properties": map[string]any{
					"LoadBalancerAttributes": assertions.Match_ArrayWith(&[]any{map[string]any{"Key": key, "Value": "true"}}),
				}})
				want := key != "deletion_protection.enabled" || cfg.LoadBalancer.DeletionProtection
				assert.Equal(t, want, len(*found) == 1, "ALB attribute %s=true", key)
			}
		}},
		{"access-log bucket: encrypted, SSL only, private, expiring", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResource(jsii.String("AWS::S3::Bucket"), map[string]any{
				"Properties": assertions.Match_ObjectLike(&map[string]any{
					"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}}},
					"PublicAccessBlockConfiguration": map[string]any{
						"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
					},
					"LifecycleConfiguration": map[string]any{"Rules": []any{map[string]any{"ExpirationInDays": cfg.LoadBalancer.AccessLogRetentionDays, "Status": "Enabled"}}},
				}),
				"DeletionPolicy": policyFor(cfg, "RetainExceptOnCreate"),
			})
			tpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
				"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
					assertions.Match_ObjectLike(&map[string]any{"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}),
					assertions.Match_ObjectLike(&map[string]any{"Effect": "Allow", "Action": "s3:PutObject",
						"Resource": map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Fn::GetAtt": []any{matching("^AccessLogs"), "Arn"}}, fmt.Sprintf("/alb/AWSLogs/%s/*", cfg.Account)}}}}),
				})}),
			})
		}},
		{"IP target group with the configured health check", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			lb := cfg.LoadBalancer
			tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::TargetGroup"), map[string]any{
				"TargetType":                 "ip",
				"Protocol":                   "HTTP",
				"Port":                       cfg.Service.ContainerPort,
				"HealthCheckPath":            lb.HealthCheckPath,
				"Matcher":                    map[string]any{"HttpCode": lb.HealthyHTTPCodes},
				"HealthCheckIntervalSeconds": lb.HealthCheckIntervalSeconds,
				"HealthyThresholdCount":      lb.HealthyThreshold,
				"UnhealthyThresholdCount":    lb.UnhealthyThreshold,
				"TargetGroupAttributes":      assertions.Match_ArrayWith(&[]any{map[string]any{"Key": "deregistration_delay.timeout_seconds", "Value": fmt.Sprint(lb.DeregistrationDelaySeconds)}}),
			})
		}},
		{"listeners: HTTPS with a modern policy and a redirect, or HTTP forward without a certificate", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			if cfg.LoadBalancer.CertificateArn != "" {
				tpl.ResourceCountIs(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), times(2))
				tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), map[string]any{
					"Port": 443, "Protocol": "HTTPS", "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
					"Certificates":   []any{map[string]any{"CertificateArn": cfg.LoadBalancer.CertificateArn}},
					"DefaultActions": []any{map[string]any{"Type": "forward", "TargetGroupArn": map[string]any{"Ref": matching("^TargetGroup")}}},
				})
				tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), map[string]any{
					"Port": 80, "Protocol": "HTTP",
					"DefaultActions": []any{map[string]any{"Type": "redirect", "RedirectConfig": map[string]any{"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}},
				})
				return
			}
			tpl.ResourceCountIs(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), times(1))
			tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), map[string]any{
				"Port": 80, "Protocol": "HTTP",
				"DefaultActions": []any{map[string]any{"Type": "forward", "TargetGroupArn": map[string]any{"Ref": matching("^TargetGroup")}}},
			})
		}},
		{"outputs the URL", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			scheme := "http://"
			if cfg.LoadBalancer.CertificateArn != "" {
				scheme = "https://"
			}
			tpl.HasOutput(jsii.String("LoadBalancerUrl"), map[string]any{"Value": map[string]any{"Fn::Join": []any{"", []any{scheme, map[string]any{"Fn::GetAtt": []any{matching("^LoadBalancer"), "DNSName"}}}}}})
		}},
	})
}

// TestFirewallFrontsTheLoadBalancer: where LoadBalancer.Firewall is on
// (prod's preset, and so the runbook variants), the ALB is behind a
// regional web ACL that rate-limits each IP, then runs the four AWS managed
// rule groups (blocking, unless a group is listed in CountOnly) and logs
// with credentials redacted; where it is off there is no web ACL.
func TestFirewallFrontsTheLoadBalancer(t *testing.T) {
	managed := func(priority int, name string, count bool) map[string]any {
		action := map[string]any{"None": map[string]any{}}
		if count {
			action = map[string]any{"Count": map[string]any{}}
		}
		return map[string]any{
			"Name": name, "Priority": priority, "OverrideAction": action,
			"Statement":        map[string]any{"ManagedRuleGroupStatement": map[string]any{"VendorName": "AWS", "Name": name}},
			"VisibilityConfig": map[string]any{"CloudWatchMetricsEnabled": true, "MetricName": name, "SampledRequestsEnabled": true},
		}
	}
	behind := 0
	for _, env := range synthesized() {
		cfg := envs[env].cfg
		fw := cfg.LoadBalancer.Firewall
		if !fw.Enabled {
			assert.Empty(t, cfn.Resources(envs[env].templates["LoadBalancer"], "AWS::WAFv2::WebACL"), "%s: the firewall is off", env)
			continue
		}
		behind++
		tpl := stackTemplate(t, env, "LoadBalancer")
		name := cfg.AppName + "-" + cfg.Environment
		counted := func(group string) bool { return slices.Contains(fw.CountOnly, group) }
		assertTemplate(t, env+": web ACL with a rate limit and the managed rule groups", func() {
			tpl.HasResourceProperties(jsii.String("AWS::WAFv2::WebACL"), map[string]any{
				"Name": name + "-waf", "Scope": "REGIONAL", "DefaultAction": map[string]any{"Allow": map[string]any{}},
				"Rules": []any{
					map[string]any{
						"Name": "RateLimitPerIp", "Priority": 0, "Action": map[string]any{"Block": map[string]any{}},
						"Statement":        map[string]any{"RateBasedStatement": map[string]any{"Limit": fw.RateLimitPer5Minutes, "AggregateKeyType": "IP", "EvaluationWindowSec": 300}},
						"VisibilityConfig": assertions.Match_AnyValue(),
					},
					managed(1, "AWSManagedRulesAmazonIpReputationList", counted("AmazonIpReputationList")),
					managed(2, "AWSManagedRulesCommonRuleSet", counted("CommonRuleSet")),
					managed(3, "AWSManagedRulesKnownBadInputsRuleSet", counted("KnownBadInputsRuleSet")),
					managed(4, "AWSManagedRulesSQLiRuleSet", counted("SQLiRuleSet")),
				},
			})
		})
		assertTemplate(t, env+": associated with the ALB", func() {
			tpl.HasResourceProperties(jsii.String("AWS::WAFv2::WebACLAssociation"), map[string]any{
				"ResourceArn": map[string]any{"Ref": matching("^LoadBalancer[0-9A-F]{8}$")},
				"WebACLArn":   map[string]any{"Fn::GetAtt": []any{matching("^WebAcl"), "Arn"}},
			})
		})
		assertTemplate(t, env+": logs to aws-waf-logs-APP-ENV with authorization and cookie redacted", func() {
			tpl.HasResourceProperties(jsii.String("AWS::WAFv2::LoggingConfiguration"), map[string]any{
				"LogDestinationConfigs": []any{"arn:aws:logs:" + cfg.Region + ":" + cfg.Account + ":log-group:aws-waf-logs-" + name},
				"RedactedFields":        []any{map[string]any{"SingleHeader": map[string]any{"Name": "authorization"}}, map[string]any{"SingleHeader": map[string]any{"Name": "cookie"}}},
			})
			tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]any{
				"Properties":     map[string]any{"LogGroupName": "aws-waf-logs-" + name, "RetentionInDays": fw.LogRetentionDays},
				"DeletionPolicy": policyFor(cfg, "RetainExceptOnCreate"),
			})
		})
	}
	assert.Positive(t, behind, "no synthesized configuration has a firewall; the runbook variants of the fixture's prod should")
}
