package lib

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecrassets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
	"github.com/example/platform/lib/redis"
)

// PlaceholderDir is the build context of the image that runs until
// Config.Service.ImageTag names an image in the repository: a container
// image asset (its Dockerfile says why), so the first deploy stabilizes
// while the repository is still empty, with or without internet egress.
const PlaceholderDir = "lib/placeholder"

// LogBufferMiB is the awslogs driver's non-blocking buffer per container:
// log lines beyond it are dropped while CloudWatch Logs lags behind.
const LogBufferMiB = 25

// ServiceStackProps configures the Service stack.
type ServiceStackProps struct {
	awscdk.StackProps
	Deployment Deployment
	Service    config.Service
	// HealthCheckPath is what the load balancer probes; the container
	// health check probes it too.
	HealthCheckPath string
	// Target5xxCount and UnhealthyTargets are the thresholds of the
	// deployment alarms that roll a bad image back.
	Target5xxCount, UnhealthyTargets float64
	// FunctionLogRetentionDays keeps the redeploy state machine's logs.
	FunctionLogRetentionDays int
	Cluster                  awsecs.ICluster
	// CapacityProvider places the tasks on the cluster's instances.
	CapacityProvider awsecs.AsgCapacityProvider
	// SecurityGroup is attached to the tasks' network interfaces.
	SecurityGroup awsec2.ISecurityGroup
	Repository    awsecr.IRepository
	TargetGroup   elbv2.ApplicationTargetGroup
	// GreenTargetGroup, ProductionRule and ProductionListener are the
	// load balancer's parts a progressive rollout shifts traffic with;
	// nil for rolling deployments.
	GreenTargetGroup   elbv2.ApplicationTargetGroup
	ProductionRule     elbv2.ApplicationListenerRule
	ProductionListener elbv2.IApplicationListener
	// DatabaseCredentials is the application user's attached secret (host,
	// port, dbname, username, password), never the master's: the
	// alternating-users rotation keeps what running tasks hold valid.
	// RedisCredentials is the application's Redis user ({"username",
	// "password"}).
	DatabaseCredentials awssecretsmanager.ISecret
	RedisCredentials    awssecretsmanager.ISecret
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
	Service awsecs.Ec2Service
	// DeploymentAlarms roll a deployment back when they fire.
	DeploymentAlarms []awscloudwatch.IAlarm
}

// NewServiceStack creates the ECS service behind the target group: the
// task definition, the rollout guarded by the circuit breaker and the
// deployment alarms, auto scaling, and the redeploy after a rotation.
func NewServiceStack(scope constructs.Construct, id string, props *ServiceStackProps) *ServiceStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	taskDef, executionRole, taskRole := newTaskDefinition(stack, props)
	alarms := newDeploymentAlarms(stack, props)
	service := newService(stack, props, taskDef, alarms)
	scale(service, props)

	suppress(defaultPolicy(executionRole), "AwsSolutions-IAM5",
		"ecr:GetAuthorizationToken has no resource-level permissions; every other statement names this repository (or the placeholder's asset repository), log group and these secrets.",
		"Resource::*")
	if props.Service.EnableExec {
		suppress(defaultPolicy(taskRole), "AwsSolutions-IAM5",
			"ECS Exec's ssmmessages channel actions have no resource-level permissions; Exec is on only where Config.Service.EnableExec is set.",
			"Resource::*")
	}
	suppress(taskDef, "AwsSolutions-ECS2",
		"The environment holds only non-secret settings (hosts, ports, TLS flags); credentials arrive as ECS secrets from Secrets Manager.")

	redeployOnRotation(stack, props, service)
	return &ServiceStack{Stack: stack, Service: service, DeploymentAlarms: alarms}
}

// newTaskDefinition creates the awsvpc task definition with its execution
// role (image pull, logs, secrets: the CDK grants each on the exact
// resource as the task definition uses it), its task role (what the
// application itself may do; it starts empty) and the application container.
func newTaskDefinition(stack awscdk.Stack, props *ServiceStackProps) (awsecs.Ec2TaskDefinition, awsiam.Role, awsiam.Role) {
	executionRole := awsiam.NewRole(stack, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Description: jsii.String("Starts the application's tasks: image pull, logs, secrets"),
	})
	taskRole := awsiam.NewRole(stack, jsii.String("TaskRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Description: jsii.String("The application's own AWS permissions"),
	})
	taskDef := awsecs.NewEc2TaskDefinition(stack, jsii.String("TaskDefinition"), &awsecs.Ec2TaskDefinitionProps{
		NetworkMode:   awsecs.NetworkMode_AWS_VPC,
		ExecutionRole: executionRole,
		TaskRole:      taskRole,
	})
	// The role may pull from the platform's repository whatever runs, so
	// switching between a release and the placeholder never changes what
	// this stack imports from the Registry stack: an export dropped while
	// the deployed stack still imports it would fail the deploy.
	props.Repository.GrantPull(executionRole)
	addContainer(stack, props, taskDef, executionRole)
	return taskDef, executionRole, taskRole
}

// addContainer adds the application container: the image, its health
// check, its logs, its plain settings and its secrets.
func addContainer(stack awscdk.Stack, props *ServiceStackProps, taskDef awsecs.Ec2TaskDefinition, executionRole awsiam.Role) {
	s := props.Service
	logGroup := newLogGroup(stack, "Logs", props.Deployment, s.LogRetentionDays, "")

	var image awsecs.ContainerImage
	var command *[]*string
	if s.ImageTag != "" {
		image = awsecs.ContainerImage_FromEcrRepository(props.Repository, jsii.String(s.ImageTag))
	} else {
		// Built for the container instances' architecture wherever the
		// deploy runs; the CDK grants the execution role the pull.
		image = awsecs.ContainerImage_FromAsset(jsii.String(PlaceholderDir), &awsecs.AssetImageProps{Platform: awsecrassets.Platform_LINUX_AMD64()})
		command = jsii.Strings("sh", "-c", fmt.Sprintf(
			`mkdir -p "$(dirname /tmp/www%[1]s)" && echo placeholder > /tmp/www/index.html && cp /tmp/www/index.html /tmp/www%[1]s && exec httpd -f -p %[2]d -h /tmp/www`,
			props.HealthCheckPath, s.ContainerPort))
	}
	// The root filesystem is read-only and the process runs as
	// Service.User, never root (Control Tower CT.ECS.PR.3 and PR.6); the
	// only writable place is a tmpfs at /tmp (mode 1777, counted against
	// the container's memory).
	scratch := awsecs.NewLinuxParameters(stack, jsii.String("LinuxParameters"), &awsecs.LinuxParametersProps{})
	scratch.AddTmpfs(&awsecs.Tmpfs{ContainerPath: jsii.String("/tmp"), Size: jsii.Number(float64(s.ScratchMiB)),
		MountOptions: &[]awsecs.TmpfsMountOption{awsecs.TmpfsMountOption_RW, awsecs.TmpfsMountOption_NOSUID, awsecs.TmpfsMountOption_NODEV}})
	taskDef.AddContainer(jsii.String("App"), &awsecs.ContainerDefinitionOptions{
		Image:                  image,
		Command:                command,
		User:                   jsii.String(s.User),
		ReadonlyRootFilesystem: jsii.Bool(true),
		LinuxParameters:        scratch,
		Essential:              jsii.Bool(true),
		Cpu:                    jsii.Number(float64(s.Cpu)),
		MemoryLimitMiB:         jsii.Number(float64(s.MemoryMiB)),
		PortMappings:           &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(float64(s.ContainerPort)), Protocol: awsecs.Protocol_TCP}},
		HealthCheck:            containerHealthCheck(s, props.HealthCheckPath),
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
			"APP_ENV":     jsii.String(props.Deployment.Environment),
			"REDIS_HOST":  props.Redis.PrimaryEndpointAddress(),
			"REDIS_PORT":  props.Redis.PrimaryEndpointPort(),
			"REDIS_TLS":   jsii.String("true"),
			"DB_SSLMODE":  jsii.String("require"),
			"HEALTH_PATH": jsii.String(props.HealthCheckPath),
		},
		// Read by the agent when a task starts; a rotated password reaches
		// tasks started after the rotation.
		Secrets: containerSecrets(stack, props, executionRole),
	})
}

// containerSecrets are the credentials the agent injects when a task
// starts. The secrets are referenced by ARN inside this stack, and the key
// grant is written here: granting through the Secrets stack's objects
// would put the execution role's ARN into the key policy and make Secrets
// depend on Service, a cycle.
func containerSecrets(stack awscdk.Stack, props *ServiceStackProps, executionRole awsiam.Role) *map[string]awsecs.Secret {
	dbSecret := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("DatabaseCredentials"), props.DatabaseCredentials.SecretArn())
	redisSecret := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("RedisCredentials"), props.RedisCredentials.SecretArn())
	executionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kms:Decrypt"),
		Resources: jsii.Strings(*props.SecretsKey.KeyArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", props.Deployment.Region)},
		},
	}))
	secret := awsecs.Secret_FromSecretsManager
	return &map[string]awsecs.Secret{
		"DB_HOST":        secret(dbSecret, jsii.String("host")),
		"DB_PORT":        secret(dbSecret, jsii.String("port")),
		"DB_NAME":        secret(dbSecret, jsii.String("dbname")),
		"DB_USERNAME":    secret(dbSecret, jsii.String("username")),
		"DB_PASSWORD":    secret(dbSecret, jsii.String("password")),
		"REDIS_USERNAME": secret(redisSecret, jsii.String("username")),
		"REDIS_PASSWORD": secret(redisSecret, jsii.String("password")),
	}
}

// containerHealthCheck probes the health-check path on the container's own
// port, or is nil when the image has no shell to run a probe with.
func containerHealthCheck(s config.Service, path string) *awsecs.HealthCheck {
	command := s.HealthCheckCommand(path)
	if command == "" {
		return nil
	}
	return &awsecs.HealthCheck{
		Command:  jsii.Strings("CMD-SHELL", command),
		Interval: awscdk.Duration_Seconds(jsii.Number(30)),
		Timeout:  awscdk.Duration_Seconds(jsii.Number(5)),
		Retries:  jsii.Number(3),
		// ECS accepts a start period of at most 300 seconds; the
		// load balancer's grace period may be longer.
		StartPeriod: awscdk.Duration_Seconds(jsii.Number(float64(min(s.HealthCheckGraceSeconds, 300)))),
	}
}

// newService runs the tasks on the capacity provider, spread over zones and
// instances, and rolls a deployment back when its tasks never get healthy
// (circuit breaker) or when they fail requests (deployment alarms).
func newService(stack awscdk.Stack, props *ServiceStackProps, taskDef awsecs.Ec2TaskDefinition, alarms []awscloudwatch.IAlarm) awsecs.Ec2Service {
	alarmNames := make([]*string, len(alarms))
	for i, a := range alarms {
		alarmNames[i] = a.AlarmName()
	}
	sp := &awsecs.Ec2ServiceProps{
		Cluster:        props.Cluster,
		TaskDefinition: taskDef,
		SecurityGroups: &[]awsec2.ISecurityGroup{lockedSecurityGroup(stack, "ServiceSecurityGroup", props.SecurityGroup)},
		VpcSubnets:     privateSubnets,
		CapacityProviderStrategies: &[]*awsecs.CapacityProviderStrategy{
			{CapacityProvider: props.CapacityProvider.CapacityProviderName(), Weight: jsii.Number(1)},
		},
		// No DesiredCount: service auto scaling owns the task count, and a
		// template value would reset it on every deploy.
		MinHealthyPercent:      jsii.Number(100),
		MaxHealthyPercent:      jsii.Number(200),
		HealthCheckGracePeriod: awscdk.Duration_Seconds(jsii.Number(float64(props.Service.HealthCheckGraceSeconds))),
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
		EnableExecuteCommand:        jsii.Bool(props.Service.EnableExec),
		PropagateTags:               awsecs.PropagatedTagSource_SERVICE,
		EnableECSManagedTags:        jsii.Bool(true),
	}
	r := props.Service.Rollout
	if !r.TwoTargetGroups() {
		service := awsecs.NewEc2Service(stack, jsii.String("Service"), sp)
		// Registration only records the target group on the service; the
		// security groups are locked, so no rule leaves the Network stack.
		service.AttachToApplicationTargetGroup(props.TargetGroup)
		return service
	}
	// ECS starts the new tasks in the green group, shifts the production
	// rule's weights to it (a share first for CANARY, in steps for LINEAR,
	// all at once for BLUE_GREEN), keeps the old tasks through the bake,
	// and rolls back when a deployment alarm fires or the circuit breaker
	// trips before the bake ends. A rolling service that prepares the
	// switch (Rollout.AlternateTargetGroup) gets the alternate target and
	// keeps rolling.
	if r.Progressive() {
		sp.DeploymentStrategy = awsecs.DeploymentStrategy(r.Strategy)
		sp.BakeTime = awscdk.Duration_Minutes(jsii.Number(float64(r.BakeMinutes)))
		shift := &awsecs.TrafficShiftConfig{StepPercent: jsii.Number(r.StepPercent), StepBakeTime: awscdk.Duration_Minutes(jsii.Number(float64(r.StepBakeMinutes)))}
		switch r.Strategy {
		case "CANARY":
			sp.CanaryConfiguration = shift
		case "LINEAR":
			sp.LinearConfiguration = shift
		}
	}
	service := awsecs.NewEc2Service(stack, jsii.String("Service"), sp)
	role := trafficRole(stack, props)
	target := service.LoadBalancerTarget(&awsecs.LoadBalancerTargetOptions{
		ContainerName: jsii.String("App"),
		ContainerPort: jsii.Number(float64(props.Service.ContainerPort)),
		AlternateTarget: awsecs.NewAlternateTarget(jsii.String("GreenTarget"), &awsecs.AlternateTargetProps{
			AlternateTargetGroup: props.GreenTargetGroup,
			ProductionListener:   awsecs.ListenerRuleConfiguration_ApplicationListenerRule(props.ProductionRule),
			Role:                 role,
		}),
	})
	// The service names the role, so CloudFormation creates the role
	// first, but not its policy: without this edge ECS can start the first
	// deployment, and shift traffic, before the role may modify the rule.
	service.Node().AddDependency(defaultPolicy(role))
	target.AttachToApplicationTargetGroup(props.TargetGroup)
	return service
}

// trafficRole is the role ECS assumes to shift traffic during a
// progressive rollout: AWS's AmazonECSInfrastructureRolePolicyForLoadBalancers,
// narrowed to this load balancer's production listener, its rule and the
// two target groups. Only the Describe calls need "*".
func trafficRole(stack awscdk.Stack, props *ServiceStackProps) awsiam.IRole {
	role := awsiam.NewRole(stack, jsii.String("TrafficShiftRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs.amazonaws.com"), nil),
		Description: jsii.String("ECS shifts the production listener rule between the blue and green target groups"),
	})
	for _, st := range []*awsiam.PolicyStatementProps{
		{Actions: jsii.Strings("elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
			"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"), Resources: jsii.Strings("*")},
		{Actions: jsii.Strings("elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"),
			Resources: &[]*string{props.TargetGroup.TargetGroupArn(), props.GreenTargetGroup.TargetGroupArn()}},
		{Actions: jsii.Strings("elasticloadbalancing:ModifyListener"), Resources: &[]*string{props.ProductionListener.ListenerArn()}},
		{Actions: jsii.Strings("elasticloadbalancing:ModifyRule"), Resources: &[]*string{props.ProductionRule.ListenerRuleArn()}},
	} {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(st))
	}
	suppress(defaultPolicy(role), "AwsSolutions-IAM5",
		"The Elastic Load Balancing Describe calls have no resource-level permissions; every modifying action names this listener, its rule or the two target groups.",
		"Resource::*")
	return role
}

// scale keeps the task count between the configured bounds, on CPU and on
// requests per task.
func scale(service awsecs.Ec2Service, props *ServiceStackProps) {
	s := props.Service
	scaling := service.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
		MinCapacity: jsii.Number(float64(s.MinTasks)),
		MaxCapacity: jsii.Number(float64(s.MaxTasks)),
	})
	scaling.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsecs.CpuUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(float64(s.CPUTargetPercent)),
	})
	// With two target groups (a progressive rollout) one policy follows
	// each group. The idle group sends no datapoints, and Application Auto
	// Scaling scales in only when every policy agrees and cannot decide on
	// missing data, so these two only scale out there and the CPU policy
	// scales in.
	groups := targetGroups(props.TargetGroup, props.GreenTargetGroup)
	for i, tg := range groups {
		scaling.ScaleOnRequestCount(jsii.String([]string{"Requests", "GreenRequests"}[i]), &awsecs.RequestCountScalingProps{
			RequestsPerTarget: jsii.Number(float64(s.RequestsPerTarget)),
			TargetGroup:       tg,
			DisableScaleIn:    jsii.Bool(len(groups) > 1),
		})
	}
}
