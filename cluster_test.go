package main

import (
	"fmt"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
)

func TestClusterStack(t *testing.T) {
	runChecks(t, "Cluster", []templateCheck{
		{"cluster with Container Insights (enhanced observability in prod)", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ECS::Cluster"), map[string]any{
				"ClusterSettings": []any{map[string]any{"Name": "containerInsights", "Value": cfg.Cluster.ContainerInsights}},
			})
		}},
		{"launch template: ECS-optimized AL2023, IMDSv2, encrypted gp3, no SSH key, instance SG", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::EC2::LaunchTemplate"), map[string]any{
				"LaunchTemplateData": assertions.Match_ObjectLike(&map[string]any{
					"InstanceType":        cfg.Cluster.InstanceType,
					"ImageId":             map[string]any{"Ref": matching("^SsmParameterValueawsserviceecsoptimizedamiamazonlinux2023recommendedimageid")},
					"MetadataOptions":     map[string]any{"HttpTokens": "required", "HttpPutResponseHopLimit": 1},
					"BlockDeviceMappings": []any{map[string]any{"DeviceName": "/dev/xvda", "Ebs": map[string]any{"Encrypted": true, "VolumeType": "gp3", "VolumeSize": cfg.Cluster.RootVolumeGiB}}},
					"SecurityGroupIds":    []any{map[string]any{"Fn::ImportValue": matching("network:.*InstanceSecurityGroup")}},
					"KeyName":             assertions.Match_Absent(),
				}),
			})
		}},
		{"user data joins this cluster", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			lts := tpl.FindResources(jsii.String("AWS::EC2::LaunchTemplate"), nil)
			for _, lt := range *lts {
				userData := cfn.JSON(at(t, *lt, "Properties", "LaunchTemplateData", "UserData"))
				assert.Contains(t, userData, "ECS_CLUSTER=", "user data does not join a cluster")
				assert.Regexp(t, `"Ref":"Cluster[0-9A-F]{8}"`, userData, "user data does not name this stack's cluster")
			}
		}},
		{"instance role with the ECS and SSM managed policies", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
				"AssumeRolePolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": []any{assertions.Match_ObjectLike(&map[string]any{"Principal": map[string]any{"Service": "ec2.amazonaws.com"}})}}),
				"ManagedPolicyArns": []any{
					map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"}}},
					map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonSSMManagedInstanceCore"}}},
				},
			})
		}},
		{"Auto Scaling group in the private subnets, no desired capacity, instances replaced by an instance refresh", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			subnets := []any{}
			for range cfg.AvailabilityZones {
				subnets = append(subnets, map[string]any{"Fn::ImportValue": matching("network:.*PrivateSubnet")})
			}
			tpl.HasResource(jsii.String("AWS::AutoScaling::AutoScalingGroup"), map[string]any{
				"Properties": map[string]any{
					"MinSize":           fmt.Sprint(cfg.Cluster.MinInstances),
					"MaxSize":           fmt.Sprint(cfg.Cluster.MaxInstances),
					"DesiredCapacity":   assertions.Match_Absent(),
					"VPCZoneIdentifier": subnets,
				},
				// A new instance before an old one goes; protected
				// instances are replaced (after managed draining), not
				// waited for; nothing suspends the capacity provider's
				// scaling alarms.
				"UpdatePolicy": map[string]any{
					"AutoScalingInstanceRefresh": map[string]any{"Strategy": "Rolling", "Preferences": map[string]any{
						"MinHealthyPercentage": 100, "MaxHealthyPercentage": 200, "InstanceWarmup": 300, "ScaleInProtectedInstances": "Refresh",
					}},
					"AutoScalingRollingUpdate": assertions.Match_Absent(),
				},
			})
		}},
		{"capacity provider with managed scaling and draining; termination protection only where configured", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			mtp := "DISABLED"
			if cfg.Cluster.ManagedTerminationProtection {
				mtp = "ENABLED"
			}
			tpl.HasResourceProperties(jsii.String("AWS::ECS::CapacityProvider"), map[string]any{
				"AutoScalingGroupProvider": assertions.Match_ObjectLike(&map[string]any{
					"ManagedScaling":               map[string]any{"Status": "ENABLED", "TargetCapacity": 100},
					"ManagedDraining":              "ENABLED",
					"ManagedTerminationProtection": mtp,
				}),
			})
			tpl.HasResourceProperties(jsii.String("AWS::ECS::ClusterCapacityProviderAssociations"), map[string]any{
				"DefaultCapacityProviderStrategy": []any{map[string]any{"CapacityProvider": map[string]any{"Ref": matching("^CapacityProvider")}, "Weight": 1}},
			})
		}},
		{"outputs the cluster name", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasOutput(jsii.String("ClusterName"), map[string]any{"Value": map[string]any{"Ref": matching("^Cluster[0-9A-F]{8}$")}})
		}},
	})
}

func TestClusterProtectionFollowsConfig(t *testing.T) {
	for _, env := range config.Names() {
		asgs := cfn.Resources(envs[env].templates["Cluster"], "AWS::AutoScaling::AutoScalingGroup")
		for id, asg := range asgs {
			got, _ := cfn.Props(asg)["NewInstancesProtectedFromScaleIn"].(bool)
			assert.Equal(t, envs[env].cfg.Cluster.ManagedTerminationProtection, got, "%s/%s: NewInstancesProtectedFromScaleIn follows Cluster.ManagedTerminationProtection", env, id)
		}
	}
}

// TestPinnedAmiVariant: with Cluster.AmiID set, the launch template names
// that AMI instead of following AWS's SSM parameter, so an AMI release does
// not replace the instances on the next deploy.
func TestPinnedAmiVariant(t *testing.T) {
	assertTemplate(t, "launch template on the pinned AMI", func() {
		stackTemplate(t, "release", "Cluster").HasResourceProperties(jsii.String("AWS::EC2::LaunchTemplate"), map[string]any{
			"LaunchTemplateData": assertions.Match_ObjectLike(&map[string]any{"ImageId": "ami-0123456789abcdef0"}),
		})
	})
	for _, env := range synthesized() {
		if envs[env].cfg.Cluster.AmiID != "" {
			continue
		}
		params, _ := envs[env].templates["Cluster"]["Parameters"].(map[string]any)
		ssm := 0
		for _, p := range params {
			if cfn.Object(p)["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>" {
				ssm++
			}
		}
		assert.Equal(t, 1, ssm, "%s: without AmiID the AMI follows the recommended ECS-optimized image's SSM parameter", env)
	}
}
