package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServiceStack(t *testing.T) {
	runChecks(t, "Service", []templateCheck{
		{"awsvpc EC2 task definition with separate execution and task roles", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), map[string]any{
				"NetworkMode":             "awsvpc",
				"RequiresCompatibilities": []any{"EC2"},
				"ExecutionRoleArn":        map[string]any{"Fn::GetAtt": []any{matching("^ExecutionRole"), "Arn"}},
				"TaskRoleArn":             map[string]any{"Fn::GetAtt": []any{matching("^TaskRole"), "Arn"}},
			})
		}},
		{"container: the release or, until a tag is set, the placeholder; sized, port, health check, logs", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			s := cfg.Service
			// The release: the platform's repository at the committed tag.
			var image any = map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{
				".dkr.ecr.", "/", map[string]any{"Fn::ImportValue": matching("registry:ExportsOutputRefRepository")}, ":" + s.ImageTag,
			})}}
			var command any = assertions.Match_Absent()
			if s.ImageTag == "" {
				// The placeholder: an image asset in this account's CDK
				// container-asset repository, under its content hash (a tag
				// that cannot change), pulled like any ECR image.
				image = map[string]any{"Fn::Sub": matching(fmt.Sprintf(`^%s\.dkr\.ecr\.%s\.\$\{AWS::URLSuffix\}/cdk-hnb659fds-container-assets-%s-%s:[0-9a-f]{64}$`,
					cfg.Account, cfg.Region, cfg.Account, cfg.Region))}
				command = []any{"sh", "-c", matching(fmt.Sprintf("httpd -f -p %d", s.ContainerPort))}
			}
			var health any = assertions.Match_Absent()
			if probe := s.HealthCheckCommand(cfg.LoadBalancer.HealthCheckPath); probe != "" {
				health = assertions.Match_ObjectLike(&map[string]any{"Command": []any{"CMD-SHELL", probe}})
			}
			tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), map[string]any{
				"ContainerDefinitions": []any{assertions.Match_ObjectLike(&map[string]any{
					"Image":        image,
					"Command":      command,
					"Cpu":          s.Cpu,
					"Memory":       s.MemoryMiB,
					"PortMappings": []any{map[string]any{"ContainerPort": s.ContainerPort, "Protocol": "tcp"}},
					"HealthCheck":  health,
					// Not root, a read-only root filesystem, a tmpfs at /tmp.
					"User":                   s.User,
					"ReadonlyRootFilesystem": true,
					"LinuxParameters": map[string]any{"Capabilities": map[string]any{}, "Tmpfs": []any{map[string]any{
						"ContainerPath": "/tmp", "Size": s.ScratchMiB, "MountOptions": []any{"rw", "nosuid", "nodev"},
					}}},
					"LogConfiguration": map[string]any{"LogDriver": "awslogs", "Options": assertions.Match_ObjectLike(&map[string]any{
						"awslogs-group": map[string]any{"Ref": matching("^Logs")}, "mode": "non-blocking", "max-buffer-size": "26214400b",
					})},
				})},
			})
			tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]any{
				"Properties":     map[string]any{"RetentionInDays": s.LogRetentionDays, "KmsKeyId": map[string]any{"Fn::ImportValue": matching("network:.*LogsKey")}},
				"DeletionPolicy": policyFor(cfg, "RetainExceptOnCreate"),
			})
		}},
		{"credentials arrive as ECS secrets; only plain values in the environment", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			secret := func(name, stack, key string) map[string]any {
				return map[string]any{"Name": name, "ValueFrom": map[string]any{"Fn::Join": []any{"", []any{
					map[string]any{"Fn::ImportValue": matching(stack)}, ":" + key + "::",
				}}}}
			}
			tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), map[string]any{
				"ContainerDefinitions": []any{assertions.Match_ObjectLike(&map[string]any{
					"Secrets": []any{
						secret("DB_HOST", "database:.*ApplicationCredentialsAttachment", "host"),
						secret("DB_NAME", "database:.*ApplicationCredentialsAttachment", "dbname"),
						secret("DB_PASSWORD", "database:.*ApplicationCredentialsAttachment", "password"),
						secret("DB_PORT", "database:.*ApplicationCredentialsAttachment", "port"),
						secret("DB_USERNAME", "database:.*ApplicationCredentialsAttachment", "username"),
						secret("REDIS_PASSWORD", "secrets:.*RedisCredentials", "password"),
						secret("REDIS_USERNAME", "secrets:.*RedisCredentials", "username"),
					},
					"Environment": assertions.Match_ArrayWith(&[]any{
						map[string]any{"Name": "REDIS_HOST", "Value": map[string]any{"Fn::ImportValue": matching("cache:.*PrimaryEndPointAddress")}},
						map[string]any{"Name": "REDIS_PORT", "Value": map[string]any{"Fn::ImportValue": matching("cache:.*PrimaryEndPointPort")}},
						map[string]any{"Name": "REDIS_TLS", "Value": "true"},
					}),
				})},
			})
		}},
		{"execution role reads exactly these secrets and decrypts through Secrets Manager only", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			// The platform's repository, whatever runs, so that switching
			// to a release changes no permission and no import.
			var repositories any = map[string]any{"Fn::ImportValue": matching("registry:ExportsOutputFnGetAttRepository[0-9A-F]{8}Arn")}
			if cfg.Service.ImageTag == "" {
				// And the placeholder's asset repository.
				repositories = []any{fmt.Sprintf("arn:aws:ecr:%s:%s:repository/cdk-hnb659fds-container-assets-%s-%s", cfg.Region, cfg.Account, cfg.Account, cfg.Region), repositories}
			}
			statements := []any{
				map[string]any{"Effect": "Allow", "Action": []any{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}, "Resource": repositories},
				map[string]any{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
			}
			statements = append(statements,
				map[string]any{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": map[string]any{"Fn::ImportValue": matching("secrets:.*Key")},
					"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", cfg.Region)}}})
			statements = append(statements,
				map[string]any{"Effect": "Allow", "Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"}, "Resource": map[string]any{"Fn::GetAtt": []any{matching("^Logs"), "Arn"}}},
				map[string]any{"Effect": "Allow", "Action": []any{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"}, "Resource": []any{
					map[string]any{"Fn::ImportValue": matching("database:.*ApplicationCredentialsAttachment")},
					map[string]any{"Fn::ImportValue": matching("secrets:.*RedisCredentials")},
				}},
			)
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
				"Roles":          []any{map[string]any{"Ref": matching("^ExecutionRole")}},
				"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": statements},
			})
		}},
		{"ECS Exec only where configured", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ECS::Service"), map[string]any{"EnableExecuteCommand": cfg.Service.EnableExec})
			exec := tpl.FindResources(jsii.String("AWS::IAM::Policy"), map[string]any{"Properties": map[string]any{
				"Roles": []any{map[string]any{"Ref": matching("^TaskRole")}},
			}})
			assert.Equal(t, cfg.Service.EnableExec, len(*exec) > 0, "task role has a policy (only ECS Exec needs one)")
		}},
		{"service: capacity provider, circuit breaker with rollback, 100/200, grace, spread, target group, no desired count", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ECS::Service"), map[string]any{
				"Cluster":                  map[string]any{"Fn::ImportValue": matching("cluster:.*Cluster")},
				"CapacityProviderStrategy": []any{map[string]any{"CapacityProvider": map[string]any{"Fn::ImportValue": matching("cluster:.*CapacityProvider")}, "Weight": 1}},
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
				"LoadBalancers": []any{map[string]any{"ContainerName": "App", "ContainerPort": cfg.Service.ContainerPort, "TargetGroupArn": map[string]any{"Fn::ImportValue": matching("loadbalancer:.*TargetGroup")}}},
				"NetworkConfiguration": map[string]any{"AwsvpcConfiguration": map[string]any{
					"AssignPublicIp": "DISABLED",
					"SecurityGroups": []any{map[string]any{"Fn::ImportValue": matching("network:.*ServiceSecurityGroup")}},
					"Subnets":        assertions.Match_AnyValue(),
				}},
				"DesiredCount": assertions.Match_Absent(),
			})
		}},
		{"service auto scaling on CPU and requests per target", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
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

func TestDeploymentAlarmsRollBackTheService(t *testing.T) {
	runChecks(t, "Service", []templateCheck{
		{"the service rolls back on its deployment alarms and the circuit breaker", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::ECS::Service"), map[string]any{
				"DeploymentConfiguration": assertions.Match_ObjectLike(&map[string]any{
					"Alarms": map[string]any{
						"AlarmNames": []any{map[string]any{"Ref": matching("^Target5xxAlarm")}, map[string]any{"Ref": matching("^UnhealthyTargetsAlarm")}},
						"Enable":     true, "Rollback": true,
					},
					"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true},
				}),
			})
			for _, name := range []string{"target-5xx", "unhealthy-targets"} {
				tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{"AlarmName": fmt.Sprintf("%s-%s-%s", cfg.AppName, cfg.Environment, name)})
			}
		}},
	})
}

func TestRotationRedeploysTheService(t *testing.T) {
	runChecks(t, "Service", []templateCheck{
		{"rule on a new current version of this secret starts the state machine", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
				"EventPattern": map[string]any{
					"source":      []any{"aws.secretsmanager"},
					"detail-type": []any{"Secret Label Updated"},
					"resources": []any{
						map[string]any{"Fn::ImportValue": matching("database:.*ApplicationCredentialsAttachment")},
						map[string]any{"Fn::ImportValue": matching("secrets:.*RedisCredentials")},
					},
					"detail": map[string]any{"labelUpdated": []any{"AWSCURRENT"}},
				},
				"State":   "ENABLED",
				"Targets": []any{assertions.Match_ObjectLike(&map[string]any{"Arn": map[string]any{"Ref": matching("^RedeployOnRotation")}})},
			})
		}},
		{"the state machine forces a new deployment of this service", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::StepFunctions::StateMachine"), map[string]any{
				"DefinitionString": map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{
					matching(`:states:::aws-sdk:ecs:updateService`),
					map[string]any{"Fn::ImportValue": matching("cluster:.*Cluster")},
					matching(`"ForceNewDeployment":true,"Service":`),
					map[string]any{"Fn::GetAtt": []any{matching("^Service[0-9A-F]{8}$"), "Name"}},
				})}},
				"LoggingConfiguration": assertions.Match_ObjectLike(&map[string]any{"Level": "ALL", "IncludeExecutionData": false}),
				"TracingConfiguration": map[string]any{"Enabled": true},
			})
		}},
		{"permissions are scoped to this service and this state machine", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
				"Roles": []any{map[string]any{"Ref": matching("^RedeployOnRotationRole")}},
				"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": assertions.Match_ArrayWith(&[]any{
					map[string]any{"Effect": "Allow", "Action": "ecs:UpdateService", "Resource": map[string]any{"Ref": matching("^Service[0-9A-F]{8}$")}},
				})},
			})
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
				"Roles": []any{map[string]any{"Ref": matching("^RedeployOnRotationEventsRole")}},
				"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
					map[string]any{"Effect": "Allow", "Action": "states:StartExecution", "Resource": map[string]any{"Ref": matching("^RedeployOnRotation[0-9A-F]{8}$")}},
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
			for id, p := range cfn.Resources(tpl, "AWS::IAM::Policy") {
				if !strings.HasPrefix(id, "RedeployOnRotationRoleDefaultPolicy") {
					assert.NotContains(t, cfn.JSON(p), "ecs:UpdateService", "%s/%s: %s may update the service", env, stack, id)
				}
			}
		}
	}
}

// TestReleaseImageVariant covers what the release runbook changes: with
// Service.ImageTag set, the task runs that tag from this platform's
// repository (no placeholder command) and the execution role may pull
// exactly that repository.
func TestReleaseImageVariant(t *testing.T) {
	tpl := stackTemplate(t, "release", "Service")
	repoArn := map[string]any{"Fn::ImportValue": matching("^webapp-prod-registry:ExportsOutputFnGetAttRepository[0-9A-F]{8}Arn")}
	assertTemplate(t, "image from the repository at the configured tag", func() {
		tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), map[string]any{
			"ContainerDefinitions": []any{assertions.Match_ObjectLike(&map[string]any{
				"Image": map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{
					".dkr.ecr.", "/", map[string]any{"Fn::ImportValue": matching("^webapp-prod-registry:ExportsOutputRefRepository")}, ":v1.0.0",
				})}},
				"Command": assertions.Match_Absent(),
			})},
		})
	})
	assertTemplate(t, "execution role pulls from this repository only", func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
			"Roles": []any{map[string]any{"Ref": matching("^ExecutionRole")}},
			"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				map[string]any{"Action": []any{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}, "Effect": "Allow", "Resource": repoArn},
				map[string]any{"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"},
			})}),
		})
	})
	// The Registry stack exports what a release needs even while the
	// placeholder runs, so the switch never removes an imported export.
	for _, env := range synthesized() {
		exports := sortedKeys(cfn.Exports(map[string]cfn.Template{"Registry": envs[env].templates["Registry"]}))
		assert.Len(t, exports, 2, "%s: the repository's ARN and name are always exported: %v", env, exports)
	}
}

// TestProgressiveDelivery asserts each configuration's rollout strategy:
// ROLLING on one target group; every progressive one shifts the production
// listener rule between the two target groups with a role scoped to them
// and keeps both request counts scaling. The runbook variants ship with
// BLUE_GREEN and LINEAR; the committed environments with what they say
// (ROLLING and CANARY as the repository ships them).
func TestProgressiveDelivery(t *testing.T) {
	seen := map[string]bool{}
	for _, env := range synthesized() {
		cfg := envs[env].cfg
		r := cfg.Service.Rollout
		seen[r.Strategy] = true
		tt := struct {
			strategy string
			shift    map[string]any
		}{r.Strategy, nil}
		switch r.Strategy {
		case "ROLLING":
			tt.strategy = ""
		case "CANARY":
			tt.shift = map[string]any{"CanaryConfiguration": map[string]any{"CanaryPercent": r.StepPercent, "CanaryBakeTimeInMinutes": r.StepBakeMinutes}}
		case "LINEAR":
			tt.shift = map[string]any{"LinearConfiguration": map[string]any{"StepPercent": r.StepPercent, "StepBakeTimeInMinutes": r.StepBakeMinutes}}
		}
		t.Run(env, func(t *testing.T) {
			tpl := stackTemplate(t, env, "Service")
			lb := stackTemplate(t, env, "LoadBalancer")
			if tt.strategy == "" {
				assertTemplate(t, "a rolling deployment on one target group", func() {
					tpl.HasResourceProperties(jsii.String("AWS::ECS::Service"), map[string]any{
						"DeploymentConfiguration": assertions.Match_ObjectLike(&map[string]any{"Strategy": assertions.Match_Absent(), "BakeTimeInMinutes": assertions.Match_Absent()}),
						"LoadBalancers":           []any{assertions.Match_ObjectLike(&map[string]any{"AdvancedConfiguration": assertions.Match_Absent()})},
					})
					lb.ResourceCountIs(jsii.String("AWS::ElasticLoadBalancingV2::TargetGroup"), times(1))
				})
				return
			}
			dc := map[string]any{"Strategy": tt.strategy, "BakeTimeInMinutes": r.BakeMinutes, "DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true},
				"Alarms": assertions.Match_ObjectLike(&map[string]any{"Enable": true, "Rollback": true})}
			for k, v := range tt.shift {
				dc[k] = v
			}
			assertTemplate(t, "strategy, bake times, alternate target group, production rule and role", func() {
				tpl.HasResourceProperties(jsii.String("AWS::ECS::Service"), map[string]any{
					"DeploymentConfiguration": assertions.Match_ObjectLike(&dc),
					"LoadBalancers": []any{map[string]any{
						"ContainerName": "App", "ContainerPort": cfg.Service.ContainerPort,
						"TargetGroupArn": map[string]any{"Fn::ImportValue": matching(":ExportsOutputRefTargetGroup[0-9A-F]{8}")},
						"AdvancedConfiguration": map[string]any{
							"AlternateTargetGroupArn": map[string]any{"Fn::ImportValue": matching(":ExportsOutputRefGreenTargetGroup[0-9A-F]{8}")},
							"ProductionListenerRule":  map[string]any{"Fn::ImportValue": matching(":ExportsOutputRefProductionRule[0-9A-F]{8}")},
							"RoleArn":                 map[string]any{"Fn::GetAtt": []any{matching("^TrafficShiftRole"), "Arn"}},
						},
					}},
				})
			})
			assertTemplate(t, "the traffic role is ECS's, scoped to this listener, rule and groups", func() {
				tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
					"AssumeRolePolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": []any{
						map[string]any{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "ecs.amazonaws.com"}},
					}}),
				})
				tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
					"Roles": []any{map[string]any{"Ref": matching("^TrafficShiftRole")}},
					"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": []any{
						map[string]any{"Effect": "Allow", "Resource": "*", "Action": []any{"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
							"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"}},
						map[string]any{"Effect": "Allow", "Action": []any{"elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"}, "Resource": []any{
							map[string]any{"Fn::ImportValue": matching("GreenTargetGroup")}, map[string]any{"Fn::ImportValue": matching(":ExportsOutputRefTargetGroup")}}},
						map[string]any{"Effect": "Allow", "Action": "elasticloadbalancing:ModifyListener", "Resource": map[string]any{"Fn::ImportValue": matching(":ExportsOutputRefLoadBalancerHttp")}},
						map[string]any{"Effect": "Allow", "Action": "elasticloadbalancing:ModifyRule", "Resource": map[string]any{"Fn::ImportValue": matching(":ExportsOutputRefProductionRule")}},
					}}),
				})
			})
			assertTemplate(t, "the production rule forwards every request to blue 100 / green 0", func() {
				lb.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::ListenerRule"), map[string]any{
					"ListenerArn": map[string]any{"Ref": matching("^LoadBalancerHttp")},
					"Priority":    100,
					"Conditions":  []any{map[string]any{"Field": "path-pattern", "PathPatternConfig": map[string]any{"Values": []any{"/*"}}}},
					"Actions": []any{map[string]any{"Type": "forward", "ForwardConfig": map[string]any{"TargetGroups": []any{
						map[string]any{"TargetGroupArn": map[string]any{"Ref": matching("^TargetGroup[0-9A-F]{8}$")}, "Weight": 100},
						map[string]any{"TargetGroupArn": map[string]any{"Ref": matching("^GreenTargetGroup")}, "Weight": 0},
					}}}},
				})
			})
			assertTemplate(t, "both groups check health alike and both scale on requests", func() {
				groups := lb.FindResources(jsii.String("AWS::ElasticLoadBalancingV2::TargetGroup"), nil)
				require.Len(t, *groups, 2)
				var checks []string
				for _, g := range *groups {
					p := cfn.Props(*g)
					checks = append(checks, fmt.Sprint(p["HealthCheckPath"], p["HealthCheckIntervalSeconds"], p["TargetGroupAttributes"]))
				}
				assert.Equal(t, checks[0], checks[1])
				tpl.ResourcePropertiesCountIs(jsii.String("AWS::ApplicationAutoScaling::ScalingPolicy"), map[string]any{
					"TargetTrackingScalingPolicyConfiguration": assertions.Match_ObjectLike(&map[string]any{
						"PredefinedMetricSpecification": assertions.Match_ObjectLike(&map[string]any{"PredefinedMetricType": "ALBRequestCountPerTarget"}),
						// The idle group has no datapoints: these only scale out.
						"DisableScaleIn": true,
					}),
				}, times(2))
			})
		})
	}
	// The committed environments may ship with any strategy; only the
	// variants' are fixed, so a strategy nobody ships is only noted.
	for _, strategy := range config.Strategies {
		if !seen[strategy] {
			t.Logf("no synthesized configuration ships with %s; its template is not checked here", strategy)
		}
	}
}
