package lib

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
)

// ClusterStackProps configures the Cluster stack.
type ClusterStackProps struct {
	awscdk.StackProps
	Deployment Deployment
	Cluster    config.Cluster
	Vpc        awsec2.IVpc
	// SecurityGroup is attached to the container instances.
	SecurityGroup awsec2.ISecurityGroup
}

// ClusterStack owns the ECS cluster and its EC2 capacity.
type ClusterStack struct {
	awscdk.Stack
	Cluster          awsecs.Cluster
	CapacityProvider awsecs.AsgCapacityProvider
}

// NewClusterStack creates an ECS cluster on an Auto Scaling group of
// ECS-optimized Amazon Linux 2023 instances in the private subnets.
func NewClusterStack(scope constructs.Construct, id string, props *ClusterStackProps) *ClusterStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	k := props.Cluster

	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{
		Vpc:                 props.Vpc,
		ContainerInsightsV2: awsecs.ContainerInsights(strings.ToUpper(k.ContainerInsights)),
	})

	launchTemplate, role := newLaunchTemplate(stack, props)
	asg := awsautoscaling.NewAutoScalingGroup(stack, jsii.String("Instances"), &awsautoscaling.AutoScalingGroupProps{
		Vpc:            props.Vpc,
		VpcSubnets:     privateSubnets,
		LaunchTemplate: launchTemplate,
		MinCapacity:    jsii.Number(float64(k.MinInstances)),
		MaxCapacity:    jsii.Number(float64(k.MaxInstances)),
		// No DesiredCapacity: the capacity provider's managed scaling owns
		// it, and a template value would reset it on every deploy.
		// A new launch template (an AMI release, a new instance type)
		// replaces the instances through an instance refresh that
		// CloudFormation starts and waits for: a new instance starts
		// before an old one goes (100-200% healthy), and instances the
		// capacity provider protects from scale-in are replaced too, after
		// ECS managed draining has moved their tasks ("select Replace for
		// Scale-in protection ... if you're using managed termination
		// protection", ECS Developer Guide, managed instance draining). A
		// rolling update instead suspends the scaling alarms the capacity
		// provider needs to place the drained tasks, and has been reported
		// to hang on protected instances (aws/aws-cdk#18179).
		UpdatePolicy: awsautoscaling.UpdatePolicy_InstanceRefresh(&awsautoscaling.InstanceRefreshOptions{
			Strategy:                  awsautoscaling.InstanceRefreshStrategy_ROLLING,
			MinHealthyPercentage:      jsii.Number(100),
			MaxHealthyPercentage:      jsii.Number(200),
			InstanceWarmup:            awscdk.Duration_Minutes(jsii.Number(5)),
			ScaleInProtectedInstances: awsautoscaling.ScaleInProtectedInstances_REFRESH,
		}),
	})
	suppress(asg, "AwsSolutions-AS3",
		"Scaling activity is driven by the ECS capacity provider and visible in ECS events and Container Insights; no separate SNS notification is needed.")

	capacity := awsecs.NewAsgCapacityProvider(stack, jsii.String("CapacityProvider"), &awsecs.AsgCapacityProviderProps{
		AutoScalingGroup:      asg,
		EnableManagedScaling:  jsii.Bool(true),
		TargetCapacityPercent: jsii.Number(100),
		// Tasks are drained off an instance before the group terminates it
		// (AMI rollouts, scale-in).
		EnableManagedDraining: jsii.Bool(true),
		// Protection blocks the group's deletion while instances run tasks,
		// so it is off where `cdk destroy` must complete.
		EnableManagedTerminationProtection: jsii.Bool(k.ManagedTerminationProtection),
	})
	cluster.AddAsgCapacityProvider(capacity, nil)
	suppress(defaultPolicy(role), "AwsSolutions-IAM5",
		"The ECS agent's ecs:Submit* and account-wide actions (ecs:DiscoverPollEndpoint, ecr:GetAuthorizationToken, logs) have no resource-level permissions; the CDK adds them when the group joins the cluster.",
		"Action::ecs:Submit*", "Resource::*")
	cluster.AddDefaultCapacityProviderStrategy(&[]*awsecs.CapacityProviderStrategy{
		{CapacityProvider: capacity.CapacityProviderName(), Weight: jsii.Number(1)},
	})

	output(stack, "ClusterName", "cluster_name: the ECS cluster", cluster.ClusterName())
	return &ClusterStack{Stack: stack, Cluster: cluster, CapacityProvider: capacity}
}

// newLaunchTemplate describes the container instances: the ECS-optimized
// AMI, the instance role (ECS agent and SSM, no SSH), the locked security
// group, IMDSv2 and an encrypted root volume.
func newLaunchTemplate(stack awscdk.Stack, props *ClusterStackProps) (awsec2.LaunchTemplate, awsiam.Role) {
	k := props.Cluster
	role := awsiam.NewRole(stack, jsii.String("InstanceRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("ECS container instances: ECS agent and SSM Session Manager (no SSH)"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AmazonEC2ContainerServiceforEC2Role")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonSSMManagedInstanceCore")),
		},
	})
	suppress(role, "AwsSolutions-IAM4",
		"AmazonEC2ContainerServiceforEC2Role and AmazonSSMManagedInstanceCore are the AWS-maintained policies the ECS agent and Session Manager need; AWS updates them as the agent changes.")

	// The AMI ID comes from AWS's SSM parameter unless pinned: pinning keeps
	// a new AMI release from replacing every instance on the next deploy.
	var image awsec2.IMachineImage = awsecs.EcsOptimizedImage_AmazonLinux2023(awsecs.AmiHardwareType_STANDARD, nil)
	if k.AmiID != "" {
		image = awsec2.MachineImage_GenericLinux(&map[string]*string{props.Deployment.Region: jsii.String(k.AmiID)}, nil)
	}
	// The capacity provider appends the commands that join the cluster to
	// this user data; without them instances never register.
	userData := awsec2.UserData_ForLinux(nil)
	// Tasks in awsvpc mode could otherwise reach the instance metadata
	// service and take the instance role's credentials.
	userData.AddCommands(jsii.String("echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config"))
	launchTemplate := awsec2.NewLaunchTemplate(stack, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		MachineImage:       image,
		InstanceType:       awsec2.NewInstanceType(jsii.String(k.InstanceType)),
		Role:               role,
		SecurityGroup:      lockedSecurityGroup(stack, "InstanceSecurityGroup", props.SecurityGroup),
		UserData:           userData,
		RequireImdsv2:      jsii.Bool(true),
		DetailedMonitoring: jsii.Bool(k.DetailedMonitoring),
		// Tasks use awsvpc networking and get credentials from the agent,
		// so nothing inside a container needs the instance's metadata.
		HttpPutResponseHopLimit: jsii.Number(1),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(float64(k.RootVolumeGiB)), &awsec2.EbsDeviceOptions{
				Encrypted:  jsii.Bool(true),
				VolumeType: awsec2.EbsDeviceVolumeType_GP3,
			}),
		}},
	})
	return launchTemplate, role
}
