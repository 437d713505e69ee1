package main

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/lib/config"
)

func TestAlarmTopicIsEncryptedAndSubscribesEmails(t *testing.T) {
	runChecks(t, "Alerts", []templateCheck{
		{"topic encrypted with a key CloudWatch may use", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
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
