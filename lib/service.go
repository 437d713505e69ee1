package lib

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
	"github.com/example/platform/lib/redis"
)

// PlaceholderImage runs until Config.Service.ImageTag names an image in the
// repository: a pinned public image that serves the health check, so the
// first deploy stabilizes while the repository is still empty.
const PlaceholderImage = "public.ecr.aws/docker/library/busybox:1.37"

// LogBufferMiB is the awslogs driver's non-blocking buffer per container:
// log lines beyond it are dropped while CloudWatch Logs lags behind.
const LogBufferMiB = 25

// ServiceStackProps configures the Service stack.
type ServiceStackProps struct {
	awscdk.StackProps
	Config  config.Config
	Cluster awsecs.ICluster
	// CapacityProvider places the tasks on the cluster's instances.
	CapacityProvider awsecs.AsgCapacityProvider
	// SecurityGroup is attached to the tasks' network interfaces.
	SecurityGroup awsec2.ISecurityGroup
	Repository    awsecr.IRepository
	TargetGroup   elbv2.ApplicationTargetGroup
	// DatabaseCredentials is the attached master secret (host, port,
	// dbname, username, password); RedisAuthToken holds the AUTH token.
	DatabaseCredentials awssecretsmanager.ISecret
	RedisAuthToken      awssecretsmanager.ISecret
	// SecretsKey encrypts both secrets.
	SecretsKey awskms.IKey
	Redis      *redis.ReplicationGroup
	// AlarmTopic receives the deployment alarms' notifications.
	AlarmTopic awssns.ITopic
}

// ServiceStack owns the application's task definition, roles, log group
// and ECS service.
type ServiceStack struct {
	awscdk.Stack
	Service        awsecs.Ec2Service
	TaskDefinition awsecs.Ec2TaskDefinition
	ExecutionRole  awsiam.IRole
	TaskRole       awsiam.IRole
	LogGroup       awslogs.ILogGroup
	// DeploymentAlarms roll a deployment back when they fire.
	DeploymentAlarms []awscloudwatch.IAlarm
	// Redeploy forces a new deployment when the database secret rotates.
	Redeploy awsstepfunctions.IStateMachine
}

// NewServiceStack creates the ECS service behind the target group.
func NewServiceStack(scope constructs.Construct, id string, props *ServiceStackProps) *ServiceStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg := props.Config
	s := cfg.Service

	// The execution role starts the task: pulls the image, writes the log
	// group and reads the secrets. The CDK grants each of those on the
	// exact resource as the task definition uses it.
	executionRole := awsiam.NewRole(stack, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Description: jsii.String("Starts the application's tasks: image pull, logs, secrets"),
	})
	// The task role is what the application itself may do; it starts empty.
	taskRole := awsiam.NewRole(stack, jsii.String("TaskRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Description: jsii.String("The application's own AWS permissions"),
	})

	taskDef := awsecs.NewEc2TaskDefinition(stack, jsii.String("TaskDefinition"), &awsecs.Ec2TaskDefinitionProps{
		NetworkMode:   awsecs.NetworkMode_AWS_VPC,
		ExecutionRole: executionRole,
		TaskRole:      taskRole,
	})
	logGroup := newLogGroup(stack, "Logs", cfg, s.LogRetentionDays)

	image := awsecs.ContainerImage_FromRegistry(jsii.String(PlaceholderImage), nil)
	var command *[]*string
	if s.ImageTag != "" {
		image = awsecs.ContainerImage_FromEcrRepository(props.Repository, jsii.String(s.ImageTag))
	} else {
		command = jsii.Strings("sh", "-c", fmt.Sprintf(
			`mkdir -p "$(dirname /www%[1]s)" && echo placeholder > /www/index.html && cp /www/index.html /www%[1]s && exec httpd -f -p %[2]d -h /www`,
			cfg.LoadBalancer.HealthCheckPath, s.ContainerPort))
	}
	// The secrets are referenced by ARN inside this stack, and the key
	// grant is written here: granting through the Secrets stack's objects
	// would put this role's ARN into the key policy and make Secrets depend
	// on Service, a cycle.
	dbSecret := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("DatabaseCredentials"), props.DatabaseCredentials.SecretArn())
	redisSecret := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("RedisAuthToken"), props.RedisAuthToken.SecretArn())
	executionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kms:Decrypt"),
		Resources: jsii.Strings(*props.SecretsKey.KeyArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", cfg.Region)},
		},
	}))
	secret := awsecs.Secret_FromSecretsManager
	var healthCheck *awsecs.HealthCheck
	if command := healthCheckCommand(s.HealthCheckTool, s.ContainerPort, cfg.LoadBalancer.HealthCheckPath); command != "" {
		healthCheck = &awsecs.HealthCheck{
			Command:  jsii.Strings("CMD-SHELL", command),
			Interval: awscdk.Duration_Seconds(jsii.Number(30)),
			Timeout:  awscdk.Duration_Seconds(jsii.Number(5)),
			Retries:  jsii.Number(3),
			// ECS accepts a start period of at most 300 seconds; the
			// load balancer's grace period may be longer.
			StartPeriod: awscdk.Duration_Seconds(jsii.Number(float64(min(s.HealthCheckGraceSeconds, 300)))),
		}
	}
	taskDef.AddContainer(jsii.String("App"), &awsecs.ContainerDefinitionOptions{
		Image:          image,
		Command:        command,
		Essential:      jsii.Bool(true),
		Cpu:            jsii.Number(float64(s.Cpu)),
		MemoryLimitMiB: jsii.Number(float64(s.MemoryMiB)),
		PortMappings:   &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(float64(s.ContainerPort)), Protocol: awsecs.Protocol_TCP}},
		HealthCheck:    healthCheck,
		Logging: awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{
			LogGroup:     logGroup,
			StreamPrefix: jsii.String("app"),
			// Non-blocking keeps a slow CloudWatch Logs from stalling the
			// application; the buffer (1 MiB unless set) decides how much
			// of a burst is held instead of dropped.
			Mode:          awsecs.AwsLogDriverMode_NON_BLOCKING,
			MaxBufferSize: awscdk.Size_Mebibytes(jsii.Number(LogBufferMiB)),
		}),
		// Plain values only: nothing secret is an environment variable.
		Environment: &map[string]*string{
			"APP_ENV":     jsii.String(cfg.Environment),
			"REDIS_HOST":  props.Redis.PrimaryEndpointAddress(),
			"REDIS_PORT":  props.Redis.PrimaryEndpointPort(),
			"REDIS_TLS":   jsii.String("true"),
			"DB_SSLMODE":  jsii.String("require"),
			"HEALTH_PATH": jsii.String(cfg.LoadBalancer.HealthCheckPath),
		},
		// Read by the agent when a task starts; a rotated password reaches
		// tasks started after the rotation.
		Secrets: &map[string]awsecs.Secret{
			"DB_HOST":          secret(dbSecret, jsii.String("host")),
			"DB_PORT":          secret(dbSecret, jsii.String("port")),
			"DB_NAME":          secret(dbSecret, jsii.String("dbname")),
			"DB_USERNAME":      secret(dbSecret, jsii.String("username")),
			"DB_PASSWORD":      secret(dbSecret, jsii.String("password")),
			"REDIS_AUTH_TOKEN": secret(redisSecret, jsii.String(RedisAuthTokenKey)),
		},
	})

	deploymentAlarms := newDeploymentAlarms(stack, cfg, props.TargetGroup, props.AlarmTopic)
	alarmNames := make([]*string, len(deploymentAlarms))
	for i, a := range deploymentAlarms {
		alarmNames[i] = a.AlarmName()
	}

	service := awsecs.NewEc2Service(stack, jsii.String("Service"), &awsecs.Ec2ServiceProps{
		Cluster:        props.Cluster,
		TaskDefinition: taskDef,
		SecurityGroups: &[]awsec2.ISecurityGroup{lockedSecurityGroup(stack, "ServiceSecurityGroup", props.SecurityGroup)},
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		CapacityProviderStrategies: &[]*awsecs.CapacityProviderStrategy{
			{CapacityProvider: props.CapacityProvider.CapacityProviderName(), Weight: jsii.Number(1)},
		},
		// No DesiredCount: service auto scaling owns the task count, and a
		// template value would reset it on every deploy.
		MinHealthyPercent:      jsii.Number(100),
		MaxHealthyPercent:      jsii.Number(200),
		HealthCheckGracePeriod: awscdk.Duration_Seconds(jsii.Number(float64(s.HealthCheckGraceSeconds))),
		CircuitBreaker:         &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		// The circuit breaker catches tasks that never get healthy; the
		// alarms catch an image that passes its health check but fails
		// requests, and roll it back the same way.
		DeploymentAlarms: &awsecs.DeploymentAlarmConfig{
			AlarmNames: &alarmNames,
			Behavior:   awsecs.AlarmBehavior_ROLLBACK_ON_ALARM,
		},
		PlacementStrategies: &[]awsecs.PlacementStrategy{
			awsecs.PlacementStrategy_SpreadAcross(awsecs.BuiltInAttributes_AVAILABILITY_ZONE()),
			awsecs.PlacementStrategy_SpreadAcrossInstances(),
		},
		AvailabilityZoneRebalancing: awsecs.AvailabilityZoneRebalancing_ENABLED,
		EnableExecuteCommand:        jsii.Bool(s.EnableExec),
		PropagateTags:               awsecs.PropagatedTagSource_SERVICE,
		EnableECSManagedTags:        jsii.Bool(true),
	})
	// Registration only records the target group on the service; the
	// security groups are locked, so no rule leaves the Network stack.
	service.AttachToApplicationTargetGroup(props.TargetGroup)

	scaling := service.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
		MinCapacity: jsii.Number(float64(s.MinTasks)),
		MaxCapacity: jsii.Number(float64(s.MaxTasks)),
	})
	scaling.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsecs.CpuUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(float64(s.CPUTargetPercent)),
	})
	scaling.ScaleOnRequestCount(jsii.String("Requests"), &awsecs.RequestCountScalingProps{
		RequestsPerTarget: jsii.Number(float64(s.RequestsPerTarget)),
		TargetGroup:       props.TargetGroup,
	})

	if s.ImageTag != "" {
		suppress(defaultPolicy(executionRole), "AwsSolutions-IAM5",
			"ecr:GetAuthorizationToken has no resource-level permissions; every other statement names this repository, log group and these secrets.",
			"Resource::*")
	}
	if s.EnableExec {
		suppress(defaultPolicy(taskRole), "AwsSolutions-IAM5",
			"ECS Exec's ssmmessages channel actions have no resource-level permissions; Exec is on only where Config.Service.EnableExec is set.",
			"Resource::*")
	}
	suppress(taskDef, "AwsSolutions-ECS2",
		"The environment holds only non-secret settings (hosts, ports, TLS flags); credentials arrive as ECS secrets from Secrets Manager.")

	redeploy := redeployOnRotation(stack, cfg, props.Cluster, service, props.DatabaseCredentials)

	return &ServiceStack{
		Stack: stack, Service: service, TaskDefinition: taskDef, ExecutionRole: executionRole, TaskRole: taskRole,
		LogGroup: logGroup, DeploymentAlarms: deploymentAlarms, Redeploy: redeploy,
	}
}

// healthCheckCommand is the container health check that fetches path on the
// container's own port with tool (wget or curl, run by /bin/sh), or "" for
// tool "none". Deriving it from the port and path keeps it probing what the
// load balancer probes when either changes.
func healthCheckCommand(tool string, port int, path string) string {
	url := shellWord(fmt.Sprintf("http://localhost:%d%s", port, path))
	switch tool {
	case "wget":
		return "wget -q -O /dev/null " + url + " || exit 1"
	case "curl":
		return "curl -fsS -o /dev/null " + url + " || exit 1"
	}
	return ""
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9/:._~%=+,@-]*$`)

// shellWord quotes s for /bin/sh unless it is made of characters the shell
// takes literally.
func shellWord(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
