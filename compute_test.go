package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
)

func re(s string) assertions.Matcher { return assertions.Match_StringLikeRegexp(jsii.String(s)) }

func TestRegistryStack(t *testing.T) {
	runChecks(t, "Registry", []templateCheck{
		{"repository with scan on push, tag mutability and AES encryption", func(tpl assertions.Template, cfg config.Config) {
			mut := "MUTABLE"
			if cfg.Registry.ImmutableTags {
				mut = "IMMUTABLE"
			}
			tpl.HasResource(jsii.String("AWS::ECR::Repository"), map[string]any{
				"Properties": map[string]any{
					"ImageScanningConfiguration": map[string]any{"ScanOnPush": true},
					"ImageTagMutability":         mut,
					// Absent means AES256, ECR's default encryption.
					"EncryptionConfiguration": assertions.Match_Absent(),
					"EmptyOnDelete":           !cfg.RetainData,
				},
				"DeletionPolicy": policyFor(cfg, "RetainExceptOnCreate"),
			})
		}},
		{"lifecycle expires untagged images and old scratch images, one rule per prefix, never release tags", func(tpl assertions.Template, cfg config.Config) {
			repos := tpl.FindResources(jsii.String("AWS::ECR::Repository"), nil)
			for _, r := range *repos {
				text := (*r)["Properties"].(map[string]any)["LifecyclePolicy"].(map[string]any)["LifecyclePolicyText"].(string)
				var policy struct {
					Rules []struct {
						Selection map[string]any `json:"selection"`
					} `json:"rules"`
				}
				if err := json.Unmarshal([]byte(text), &policy); err != nil {
					panic(err)
				}
				got := []string{}
				for _, rule := range policy.Rules {
					got = append(got, fmt.Sprintf("%v/%v/%v/%v", rule.Selection["tagStatus"], rule.Selection["tagPrefixList"], rule.Selection["countType"], rule.Selection["countNumber"]))
				}
				want := []string{
					fmt.Sprintf("untagged/<nil>/sinceImagePushed/%d", cfg.Registry.UntaggedExpiryDays),
					fmt.Sprintf("tagged/[pr-]/imageCountMoreThan/%d", cfg.Registry.KeepImages),
					fmt.Sprintf("tagged/[ci-]/imageCountMoreThan/%d", cfg.Registry.KeepImages),
				}
				if strings.Join(got, ",") != strings.Join(want, ",") {
					panic(fmt.Sprintf("lifecycle rules %v, want %v", got, want))
				}
			}
		}},
		{"outputs repository_url", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasOutput(jsii.String("RepositoryUrl"), map[string]any{"Description": re("^repository_url: ")})
		}},
	})
}

func TestClusterStack(t *testing.T) {
	runChecks(t, "Cluster", []templateCheck{
		{"cluster with Container Insights", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ECS::Cluster"), map[string]any{
				"ClusterSettings": []any{map[string]any{"Name": "containerInsights", "Value": "enabled"}},
			})
		}},
		{"launch template: ECS-optimized AL2023, IMDSv2, encrypted gp3, no SSH key, instance SG", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::EC2::LaunchTemplate"), map[string]any{
				"LaunchTemplateData": assertions.Match_ObjectLike(&map[string]any{
					"InstanceType":        cfg.Cluster.InstanceType,
					"ImageId":             map[string]any{"Ref": re("^SsmParameterValueawsserviceecsoptimizedamiamazonlinux2023recommendedimageid")},
					"MetadataOptions":     map[string]any{"HttpTokens": "required", "HttpPutResponseHopLimit": 1},
					"BlockDeviceMappings": []any{map[string]any{"DeviceName": "/dev/xvda", "Ebs": map[string]any{"Encrypted": true, "VolumeType": "gp3", "VolumeSize": cfg.Cluster.RootVolumeGiB}}},
					"SecurityGroupIds":    []any{map[string]any{"Fn::ImportValue": re("network:.*InstanceSecurityGroup")}},
					"KeyName":             assertions.Match_Absent(),
				}),
			})
		}},
		{"user data joins this cluster", func(tpl assertions.Template, cfg config.Config) {
			lts := tpl.FindResources(jsii.String("AWS::EC2::LaunchTemplate"), nil)
			for _, lt := range *lts {
				raw, _ := json.Marshal((*lt)["Properties"].(map[string]any)["LaunchTemplateData"].(map[string]any)["UserData"])
				if !strings.Contains(string(raw), "ECS_CLUSTER=") || !strings.Contains(string(raw), `"Ref":"ClusterEB0386A7"`) {
					panic(fmt.Sprintf("user data does not join the cluster: %s", raw))
				}
			}
		}},
		{"instance role with the ECS and SSM managed policies", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
				"AssumeRolePolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": []any{assertions.Match_ObjectLike(&map[string]any{"Principal": map[string]any{"Service": "ec2.amazonaws.com"}})}}),
				"ManagedPolicyArns": []any{
					map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"}}},
					map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonSSMManagedInstanceCore"}}},
				},
			})
		}},
		{"Auto Scaling group in the private subnets, no desired capacity, rolling replacement", func(tpl assertions.Template, cfg config.Config) {
			subnets := []any{}
			for range cfg.AvailabilityZones {
				subnets = append(subnets, map[string]any{"Fn::ImportValue": re("network:.*PrivateSubnet")})
			}
			tpl.HasResource(jsii.String("AWS::AutoScaling::AutoScalingGroup"), map[string]any{
				"Properties": map[string]any{
					"MinSize":           fmt.Sprint(cfg.Cluster.MinInstances),
					"MaxSize":           fmt.Sprint(cfg.Cluster.MaxInstances),
					"DesiredCapacity":   assertions.Match_Absent(),
					"VPCZoneIdentifier": subnets,
				},
				"UpdatePolicy": map[string]any{"AutoScalingRollingUpdate": map[string]any{
					"MaxBatchSize": 1, "MinInstancesInService": cfg.Cluster.MinInstances, "PauseTime": "PT5M",
				}},
			})
		}},
		{"capacity provider with managed scaling and draining; termination protection only where configured", func(tpl assertions.Template, cfg config.Config) {
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
				"DefaultCapacityProviderStrategy": []any{map[string]any{"CapacityProvider": map[string]any{"Ref": re("^CapacityProvider")}, "Weight": 1}},
			})
		}},
		{"outputs the cluster name", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasOutput(jsii.String("ClusterName"), map[string]any{"Value": map[string]any{"Ref": "ClusterEB0386A7"}})
		}},
	})
}

func TestClusterProtectionFollowsConfig(t *testing.T) {
	for _, env := range config.Names() {
		asgs := resources(envs[env].templates["Cluster"], "AWS::AutoScaling::AutoScalingGroup")
		for id, asg := range asgs {
			got, _ := asg["Properties"].(map[string]any)["NewInstancesProtectedFromScaleIn"].(bool)
			if want := envs[env].cfg.Cluster.ManagedTerminationProtection; got != want {
				t.Errorf("%s/%s: NewInstancesProtectedFromScaleIn = %v, want %v (dev must tear down)", env, id, got, want)
			}
		}
	}
}

func TestLoadBalancerStack(t *testing.T) {
	runChecks(t, "LoadBalancer", []templateCheck{
		{"internet-facing ALB in the public subnets with the ALB security group", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::LoadBalancer"), map[string]any{
				"Scheme":         "internet-facing",
				"Type":           "application",
				"SecurityGroups": []any{map[string]any{"Fn::ImportValue": re("network:.*LoadBalancerSecurityGroup")}},
				"Subnets":        assertions.Match_ArrayWith(&[]any{map[string]any{"Fn::ImportValue": re("network:.*PublicSubnet")}}),
			})
			for _, key := range []string{"routing.http.drop_invalid_header_fields.enabled", "access_logs.s3.enabled", "deletion_protection.enabled"} {
				found := tpl.FindResources(jsii.String("AWS::ElasticLoadBalancingV2::LoadBalancer"), map[string]any{"Properties": map[string]any{
					"LoadBalancerAttributes": assertions.Match_ArrayWith(&[]any{map[string]any{"Key": key, "Value": "true"}}),
				}})
				want := key != "deletion_protection.enabled" || cfg.LoadBalancer.DeletionProtection
				if got := len(*found) == 1; got != want {
					panic(fmt.Sprintf("ALB attribute %s=true: %v, want %v", key, got, want))
				}
			}
		}},
		{"access-log bucket: encrypted, SSL only, private, expiring", func(tpl assertions.Template, cfg config.Config) {
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
						"Resource": map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Fn::GetAtt": []any{re("^AccessLogs"), "Arn"}}, fmt.Sprintf("/alb/AWSLogs/%s/*", cfg.Account)}}}}),
				})}),
			})
		}},
		{"IP target group with the configured health check", func(tpl assertions.Template, cfg config.Config) {
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
		{"listeners: HTTPS with a modern policy and a redirect, or HTTP forward without a certificate", func(tpl assertions.Template, cfg config.Config) {
			if cfg.LoadBalancer.CertificateArn != "" {
				tpl.ResourceCountIs(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), count(2))
				tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), map[string]any{
					"Port": 443, "Protocol": "HTTPS", "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
					"Certificates":   []any{map[string]any{"CertificateArn": cfg.LoadBalancer.CertificateArn}},
					"DefaultActions": []any{map[string]any{"Type": "forward", "TargetGroupArn": map[string]any{"Ref": re("^TargetGroup")}}},
				})
				tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), map[string]any{
					"Port": 80, "Protocol": "HTTP",
					"DefaultActions": []any{map[string]any{"Type": "redirect", "RedirectConfig": map[string]any{"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}},
				})
				return
			}
			tpl.ResourceCountIs(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), count(1))
			tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), map[string]any{
				"Port": 80, "Protocol": "HTTP",
				"DefaultActions": []any{map[string]any{"Type": "forward", "TargetGroupArn": map[string]any{"Ref": re("^TargetGroup")}}},
			})
		}},
		{"outputs the URL", func(tpl assertions.Template, cfg config.Config) {
			scheme := "http://"
			if cfg.LoadBalancer.CertificateArn != "" {
				scheme = "https://"
			}
			tpl.HasOutput(jsii.String("LoadBalancerUrl"), map[string]any{"Value": map[string]any{"Fn::Join": []any{"", []any{scheme, map[string]any{"Fn::GetAtt": []any{re("^LoadBalancer"), "DNSName"}}}}}})
		}},
	})
}

func TestServiceStack(t *testing.T) {
	runChecks(t, "Service", []templateCheck{
		{"awsvpc EC2 task definition with separate execution and task roles", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), map[string]any{
				"NetworkMode":             "awsvpc",
				"RequiresCompatibilities": []any{"EC2"},
				"ExecutionRoleArn":        map[string]any{"Fn::GetAtt": []any{re("^ExecutionRole"), "Arn"}},
				"TaskRoleArn":             map[string]any{"Fn::GetAtt": []any{re("^TaskRole"), "Arn"}},
			})
		}},
		{"container: placeholder until a tag is set, sized, port, health check, logs", func(tpl assertions.Template, cfg config.Config) {
			s := cfg.Service
			tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), map[string]any{
				"ContainerDefinitions": []any{assertions.Match_ObjectLike(&map[string]any{
					"Image":        "public.ecr.aws/docker/library/busybox:1.37",
					"Command":      []any{"sh", "-c", re(fmt.Sprintf("httpd -f -p %d", s.ContainerPort))},
					"Cpu":          s.Cpu,
					"Memory":       s.MemoryMiB,
					"PortMappings": []any{map[string]any{"ContainerPort": s.ContainerPort, "Protocol": "tcp"}},
					"HealthCheck":  assertions.Match_ObjectLike(&map[string]any{"Command": []any{"CMD-SHELL", "wget -q -O /dev/null http://localhost:8080/healthz || exit 1"}}),
					"LogConfiguration": map[string]any{"LogDriver": "awslogs", "Options": assertions.Match_ObjectLike(&map[string]any{
						"awslogs-group": map[string]any{"Ref": re("^Logs")}, "mode": "non-blocking", "max-buffer-size": "26214400b",
					})},
				})},
			})
			tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]any{
				"Properties": map[string]any{"RetentionInDays": s.LogRetentionDays}, "DeletionPolicy": policyFor(cfg, "RetainExceptOnCreate"),
			})
		}},
		{"credentials arrive as ECS secrets; only plain values in the environment", func(tpl assertions.Template, cfg config.Config) {
			secret := func(name, stack, key string) map[string]any {
				return map[string]any{"Name": name, "ValueFrom": map[string]any{"Fn::Join": []any{"", []any{
					map[string]any{"Fn::ImportValue": re(stack)}, ":" + key + "::",
				}}}}
			}
			tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), map[string]any{
				"ContainerDefinitions": []any{assertions.Match_ObjectLike(&map[string]any{
					"Secrets": []any{
						secret("DB_HOST", "database:.*CredentialsAttachment", "host"),
						secret("DB_NAME", "database:.*CredentialsAttachment", "dbname"),
						secret("DB_PASSWORD", "database:.*CredentialsAttachment", "password"),
						secret("DB_PORT", "database:.*CredentialsAttachment", "port"),
						secret("DB_USERNAME", "database:.*CredentialsAttachment", "username"),
						secret("REDIS_AUTH_TOKEN", "secrets:.*RedisAuthToken", "token"),
					},
					"Environment": assertions.Match_ArrayWith(&[]any{
						map[string]any{"Name": "REDIS_HOST", "Value": map[string]any{"Fn::ImportValue": re("cache:.*PrimaryEndPointAddress")}},
						map[string]any{"Name": "REDIS_PORT", "Value": map[string]any{"Fn::ImportValue": re("cache:.*PrimaryEndPointPort")}},
						map[string]any{"Name": "REDIS_TLS", "Value": "true"},
					}),
				})},
			})
		}},
		{"execution role reads exactly these secrets and decrypts through Secrets Manager only", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
				"Roles": []any{map[string]any{"Ref": re("^ExecutionRole")}},
				"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
					map[string]any{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": map[string]any{"Fn::ImportValue": re("secrets:.*Key")},
						"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", cfg.Region)}}},
					map[string]any{"Effect": "Allow", "Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"}, "Resource": map[string]any{"Fn::GetAtt": []any{re("^Logs"), "Arn"}}},
					map[string]any{"Effect": "Allow", "Action": []any{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"}, "Resource": []any{
						map[string]any{"Fn::ImportValue": re("database:.*CredentialsAttachment")},
						map[string]any{"Fn::ImportValue": re("secrets:.*RedisAuthToken")},
					}},
				}},
			})
		}},
		{"ECS Exec only where configured", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ECS::Service"), map[string]any{"EnableExecuteCommand": cfg.Service.EnableExec})
			exec := tpl.FindResources(jsii.String("AWS::IAM::Policy"), map[string]any{"Properties": map[string]any{
				"Roles": []any{map[string]any{"Ref": re("^TaskRole")}},
			}})
			if got := len(*exec) > 0; got != cfg.Service.EnableExec {
				panic(fmt.Sprintf("task role has a policy = %v, want %v (only ECS Exec needs one)", got, cfg.Service.EnableExec))
			}
		}},
		{"service: capacity provider, circuit breaker with rollback, 100/200, grace, spread, target group, no desired count", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ECS::Service"), map[string]any{
				"Cluster":                  map[string]any{"Fn::ImportValue": re("cluster:.*Cluster")},
				"CapacityProviderStrategy": []any{map[string]any{"CapacityProvider": map[string]any{"Fn::ImportValue": re("cluster:.*CapacityProvider")}, "Weight": 1}},
				"DeploymentConfiguration": assertions.Match_ObjectLike(&map[string]any{
					"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true},
					"MinimumHealthyPercent":    100,
					"MaximumPercent":           200,
				}),
				"HealthCheckGracePeriodSeconds": cfg.Service.HealthCheckGraceSeconds,
				"PlacementStrategies": []any{
					map[string]any{"Type": "spread", "Field": "attribute:ecs.availability-zone"},
					map[string]any{"Type": "spread", "Field": "instanceId"},
				},
				"LoadBalancers": []any{map[string]any{"ContainerName": "App", "ContainerPort": cfg.Service.ContainerPort, "TargetGroupArn": map[string]any{"Fn::ImportValue": re("loadbalancer:.*TargetGroup")}}},
				"NetworkConfiguration": map[string]any{"AwsvpcConfiguration": map[string]any{
					"AssignPublicIp": "DISABLED",
					"SecurityGroups": []any{map[string]any{"Fn::ImportValue": re("network:.*ServiceSecurityGroup")}},
					"Subnets":        assertions.Match_AnyValue(),
				}},
				"DesiredCount": assertions.Match_Absent(),
			})
		}},
		{"service auto scaling on CPU and requests per target", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ApplicationAutoScaling::ScalableTarget"), map[string]any{
				"MinCapacity": cfg.Service.MinTasks, "MaxCapacity": cfg.Service.MaxTasks, "ScalableDimension": "ecs:service:DesiredCount",
			})
			tpl.HasResourceProperties(jsii.String("AWS::ApplicationAutoScaling::ScalingPolicy"), map[string]any{
				"TargetTrackingScalingPolicyConfiguration": map[string]any{
					"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
					"TargetValue":                   cfg.Service.CPUTargetPercent,
				},
			})
			tpl.HasResourceProperties(jsii.String("AWS::ApplicationAutoScaling::ScalingPolicy"), map[string]any{
				"TargetTrackingScalingPolicyConfiguration": map[string]any{
					"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": assertions.Match_AnyValue()},
					"TargetValue":                   cfg.Service.RequestsPerTarget,
				},
			})
		}},
	})
}
