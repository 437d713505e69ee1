package main

import (
	"fmt"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAlarmTopicIsEncryptedAndSubscribesEmails(t *testing.T) {
	runChecks(t, "Alerts", []templateCheck{
		{"topic encrypted with a key CloudWatch may use", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{"KmsMasterKeyId": map[string]any{"Fn::GetAtt": []any{matching("^TopicKey"), "Arn"}}})
			tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
				"EnableKeyRotation": true,
				"KeyPolicy": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"}, "Action": []any{"kms:Decrypt", "kms:GenerateDataKey*"},
				})})}),
			})
			tpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), times(len(cfg.Monitoring.AlarmEmails)))
		}},
	})

	// The first-deploy runbook, in a real account, subscribes two real
	// addresses.
	tpl := stackTemplate(t, "first-deploy", "Alerts")
	for _, email := range []string{"oncall@acme.io", "ops@acme.io"} {
		assertTemplate(t, "subscription of "+email, func() {
			tpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
				"Protocol": "email", "Endpoint": email, "TopicArn": map[string]any{"Ref": matching("^AlarmTopic")},
			})
		})
	}
}

// TestAlarmTopicPolicyLetsCloudWatchPublish: the TLS-only topic policy
// replaces SNS's default policy, so it must allow CloudWatch, for this
// account's alarms in this region, beside the Deny of plain HTTP.
func TestAlarmTopicPolicyLetsCloudWatchPublish(t *testing.T) {
	for _, env := range config.Names() {
		cfg := envs[env].cfg
		policies := cfn.Resources(envs[env].templates["Alerts"], "AWS::SNS::TopicPolicy")
		require.Len(t, policies, 1, env)
		for _, p := range policies {
			doc := cfn.Object(at(t, p, "Properties", "PolicyDocument"))
			var sids []string
			for _, s := range cfn.List(at(t, doc, "Statement")) {
				st := cfn.Object(s)
				sids = append(sids, fmt.Sprint(st["Sid"]))
				if st["Sid"] == "AllowCloudWatchAlarmsToPublish" {
					assert.Equal(t, map[string]any{
						"StringEquals": map[string]any{"aws:SourceAccount": cfg.Account},
						"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:cloudwatch:" + cfg.Region + ":" + cfg.Account + ":alarm:*"},
					}, st["Condition"], env)
					assert.Equal(t, map[string]any{"Service": "cloudwatch.amazonaws.com"}, st["Principal"], env)
					assert.Equal(t, "sns:Publish", st["Action"], env)
				}
			}
			assert.ElementsMatch(t, []string{"AllowPublishThroughSSLOnly", "AllowCloudWatchAlarmsToPublish"}, sids, env)
		}
	}
}
