package lib

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
)

// Ports that the network policy opens; config owns them so that it can
// keep the container port off them.
const (
	HTTPPort     = config.HTTPPort
	HTTPSPort    = config.HTTPSPort
	PostgresPort = config.PostgresPort
	RedisPort    = config.RedisPort
)

// NetworkStackProps configures the Network stack.
type NetworkStackProps struct {
	awscdk.StackProps
	Deployment Deployment
	Network    config.Network
	// AvailabilityZones are the zones the subnets span.
	AvailabilityZones []string
	// ContainerPort is the application's port, which the ALB may reach.
	ContainerPort int
}

// SecurityGroups are the security groups of the platform. All of them, and
// every rule between them, live in the Network stack so that the whole
// connectivity policy is written down in one place (allowFlows) and no
// cross-stack rule can create a dependency cycle.
type SecurityGroups struct {
	// LoadBalancer is attached to the internet-facing ALB.
	LoadBalancer awsec2.ISecurityGroup
	// Service is attached to the application's tasks (awsvpc networking).
	Service awsec2.ISecurityGroup
	// Instances is attached to the ECS container instances.
	Instances awsec2.ISecurityGroup
	// Database is attached to the RDS instance.
	Database awsec2.ISecurityGroup
	// Cache is attached to the ElastiCache replication group.
	Cache awsec2.ISecurityGroup
	// Rotation is attached to the Lambda that rotates the database
	// credentials from the private subnets.
	Rotation awsec2.ISecurityGroup
	// Endpoints is attached to the interface VPC endpoints; nil when
	// Config.Network.InterfaceEndpoints is off.
	Endpoints awsec2.ISecurityGroup
	// S3 is the prefix list of the S3 gateway endpoint's addresses, which
	// image layers and the AL2023 package repositories come from; nil
	// when the interface endpoints are off.
	S3 awsec2.IPeer
}

// NetworkStack owns the VPC and every security group.
type NetworkStack struct {
	awscdk.Stack
	Vpc            awsec2.IVpc
	SecurityGroups SecurityGroups
	// LogsKey encrypts every log group of the deployment; it lives here
	// because every stack with a log group follows this one.
	LogsKey awskms.IKey
}

// NewNetworkStack creates the VPC with public and private subnets in each
// configured zone, NAT gateways, flow logs, VPC endpoints and the security
// groups with exactly the flows of the network policy.
func NewNetworkStack(scope constructs.Construct, id string, props *NetworkStackProps) *NetworkStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	n := props.Network
	logsKey := newLogsKey(stack, props.Deployment)
	props.Deployment.LogsKey = logsKey

	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:       awsec2.IpAddresses_Cidr(jsii.String(n.VpcCidr)),
		AvailabilityZones: jsii.Strings(props.AvailabilityZones...),
		NatGateways:       jsii.Number(float64(n.NatGateways)),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			// Public subnets hold only the ALB and the NAT gateways, which get
			// their addresses explicitly; nothing launched there by accident
			// should become reachable from the internet.
			{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(float64(n.PublicSubnetMask)), MapPublicIpOnLaunch: jsii.Bool(false)},
			{Name: jsii.String("Private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(float64(n.PrivateSubnetMask))},
		},
		// Removes every rule of the default security group so that nothing
		// attached to it by accident can talk to anything.
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})
	vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(newLogGroup(stack, "FlowLogs", props.Deployment, n.FlowLogRetentionDays, ""), nil),
		TrafficType: awsec2.FlowLogTrafficType_ALL,
	})

	// ECR image layers and other S3 traffic bypass the NAT gateways for free.
	s3Endpoint := vpc.AddGatewayEndpoint(jsii.String("S3Endpoint"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_S3(),
		Subnets: &[]*awsec2.SubnetSelection{privateSubnets},
	})

	sgs := SecurityGroups{
		LoadBalancer: newSecurityGroup(stack, vpc, "LoadBalancerSecurityGroup", "Internet-facing application load balancer"),
		Service:      newSecurityGroup(stack, vpc, "ServiceSecurityGroup", "Application tasks (awsvpc)"),
		Instances:    newSecurityGroup(stack, vpc, "InstanceSecurityGroup", "ECS container instances"),
		Database:     newSecurityGroup(stack, vpc, "DatabaseSecurityGroup", "RDS PostgreSQL; accepts the application only, makes no outbound connections"),
		Cache:        newSecurityGroup(stack, vpc, "CacheSecurityGroup", "ElastiCache Redis; accepts the application only, makes no outbound connections"),
		Rotation:     newSecurityGroup(stack, vpc, "RotationSecurityGroup", "Secrets Manager rotation of the database credentials"),
	}
	if n.InterfaceEndpoints {
		// Closed egress makes the endpoints the only way to AWS, and their
		// policies the data perimeter. (With open egress, dev, S3's
		// gateway endpoint keeps full access: the tasks reach S3 as they
		// reach the internet.)
		for _, st := range s3Perimeter(*stack.Region(), *stack.Account(), n.ApplicationBuckets) {
			s3Endpoint.AddToPolicy(st)
		}
		sgs.Endpoints = addInterfaceEndpoints(stack, vpc)
		// The prefix list's ID differs per region: looked up by name for
		// the stack's account and region, cached in cdk.context.json like
		// the zones (validation refuses a region without it).
		s3 := awsec2.PrefixList_FromLookup(stack, jsii.String("S3PrefixList"), &awsec2.PrefixListLookupOptions{
			PrefixListName: jsii.String(config.S3PrefixListName(*stack.Region())),
		})
		sgs.S3 = awsec2.Peer_PrefixList(s3.PrefixListId())
	}
	allowFlows(sgs, props.ContainerPort, n.InternetEgress, len(n.ApplicationBuckets) > 0)
	suppress(sgs.LoadBalancer, "AwsSolutions-EC23",
		"The internet-facing ALB must accept 80 and 443 from anywhere; those two ports are its only ingress.")

	subnets := vpc.PrivateSubnets()
	cidrs := make([]*string, 0, len(*subnets))
	for _, s := range *subnets {
		cidrs = append(cidrs, s.Ipv4CidrBlock())
	}
	output(stack, "VpcId", "vpc_id: the VPC", vpc.VpcId())
	output(stack, "PrivateSubnetIds", "private_subnet_ids: comma-separated private subnet IDs",
		awscdk.Fn_Join(jsii.String(","), vpc.SelectSubnets(privateSubnets).SubnetIds))
	output(stack, "PrivateSubnetsCidr", "private_subnets_cidr: comma-separated private subnet CIDR blocks",
		awscdk.Fn_Join(jsii.String(","), &cidrs))

	return &NetworkStack{Stack: stack, Vpc: vpc, SecurityGroups: sgs, LogsKey: logsKey}
}

// allowFlows is the complete network policy of the platform (DESIGN.md,
// "Allowed network flows"). Each line opens one flow, adding the ingress rule
// on the receiver and the matching egress rule on the sender. Every group was
// created without outbound access, so what is not here is denied.
func allowFlows(sg SecurityGroups, containerPort int, internet []config.Egress, applicationS3 bool) {
	app := awsec2.Port_Tcp(jsii.Number(float64(containerPort)))
	tcp := func(p int) awsec2.Port { return awsec2.Port_Tcp(jsii.Number(float64(p))) }

	sg.LoadBalancer.Connections().AllowFromAnyIpv4(tcp(HTTPSPort), jsii.String("HTTPS from the internet"))
	sg.LoadBalancer.Connections().AllowFromAnyIpv4(tcp(HTTPPort), jsii.String("HTTP from the internet, redirected to HTTPS"))
	sg.Service.Connections().AllowFrom(sg.LoadBalancer, app, jsii.String("ALB to the application's container port"))
	sg.Database.Connections().AllowFrom(sg.Service, tcp(PostgresPort), jsii.String("Application to PostgreSQL"))
	sg.Cache.Connections().AllowFrom(sg.Service, tcp(RedisPort), jsii.String("Application to Redis"))
	// The rotation function logs in to change the password and calls
	// Secrets Manager to store it.
	sg.Database.Connections().AllowFrom(sg.Rotation, tcp(PostgresPort), jsii.String("Credential rotation to PostgreSQL"))
	// What the application may reach on the internet, as configured.
	for _, e := range internet {
		sg.Service.Connections().AllowTo(awsec2.Peer_Ipv4(jsii.String(e.CIDR)), tcp(e.Port), jsii.String("Application to "+e.Purpose))
	}
	if sg.Endpoints == nil {
		// AWS APIs and registries (ECR, Secrets Manager, CloudWatch, SSM,
		// ECS agent) over HTTPS, through the NAT gateways.
		sg.Rotation.Connections().AllowToAnyIpv4(tcp(HTTPSPort), jsii.String("Credential rotation to Secrets Manager"))
		sg.Instances.Connections().AllowToAnyIpv4(tcp(HTTPSPort), jsii.String("ECS agent and SSM to AWS APIs and registries"))
		return
	}
	// AWS only through the VPC endpoints: the interface endpoints' group,
	// and the S3 gateway endpoint for image layers and packages.
	sg.Endpoints.Connections().AllowFrom(sg.Service, tcp(HTTPSPort), jsii.String("Application to interface endpoints"))
	sg.Endpoints.Connections().AllowFrom(sg.Instances, tcp(HTTPSPort), jsii.String("ECS instances to interface endpoints"))
	sg.Endpoints.Connections().AllowFrom(sg.Rotation, tcp(HTTPSPort), jsii.String("Credential rotation to interface endpoints"))
	// The tasks reach S3 only where the application names its buckets
	// (Network.ApplicationBuckets); image layers are pulled by the
	// instances' agent, not the tasks.
	if applicationS3 {
		sg.Service.Connections().AllowTo(sg.S3, tcp(HTTPSPort), jsii.String("Application to its S3 buckets through the gateway endpoint"))
	}
	sg.Instances.Connections().AllowTo(sg.S3, tcp(HTTPSPort), jsii.String("Image layers and AL2023 packages from S3 through the gateway endpoint"))
}

func newSecurityGroup(scope constructs.Construct, vpc awsec2.IVpc, id, description string) awsec2.ISecurityGroup {
	return awsec2.NewSecurityGroup(scope, jsii.String(id), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String(description),
		AllowAllOutbound: jsii.Bool(false),
	})
}

// addInterfaceEndpoints adds, in the private subnets, an interface
// endpoint for every AWS API the tasks, the container instances and the
// rotation function call, and returns their security group, whose rules
// allowFlows writes.
func addInterfaceEndpoints(stack awscdk.Stack, vpc awsec2.Vpc) awsec2.ISecurityGroup {
	sg := newSecurityGroup(stack, vpc, "EndpointSecurityGroup", "Interface VPC endpoints")
	for _, ep := range []struct {
		id      string
		service awsec2.InterfaceVpcEndpointAwsService
		// policy: the service documents endpoint policies. Where it does
		// not, EC2 refuses any policy but full access ("only supports the
		// full-access endpoint policy"), so the endpoint keeps it.
		policy bool
	}{
		{"EcrApiEndpoint", awsec2.InterfaceVpcEndpointAwsService_ECR(), true},
		{"EcrDockerEndpoint", awsec2.InterfaceVpcEndpointAwsService_ECR_DOCKER(), true},
		{"LogsEndpoint", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS(), true},
		{"SecretsManagerEndpoint", awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER(), true},
		// The ECS agent: control plane, task and container events, and
		// Container Insights metrics.
		{"EcsEndpoint", awsec2.InterfaceVpcEndpointAwsService_ECS(), true},
		{"EcsAgentEndpoint", awsec2.InterfaceVpcEndpointAwsService_ECS_AGENT(), false},
		{"EcsTelemetryEndpoint", awsec2.InterfaceVpcEndpointAwsService_ECS_TELEMETRY(), false},
		// Session Manager instead of SSH, and the SSM agent.
		{"SsmEndpoint", awsec2.InterfaceVpcEndpointAwsService_SSM(), true},
		{"SsmMessagesEndpoint", awsec2.InterfaceVpcEndpointAwsService_SSM_MESSAGES(), false},
		{"Ec2MessagesEndpoint", awsec2.InterfaceVpcEndpointAwsService_EC2_MESSAGES(), false},
		// Regional STS for SDKs that assume roles or use web identity.
		{"StsEndpoint", awsec2.InterfaceVpcEndpointAwsService_STS(), true},
	} {
		endpoint := vpc.AddInterfaceEndpoint(jsii.String(ep.id), &awsec2.InterfaceVpcEndpointOptions{
			Service:           ep.service,
			Subnets:           privateSubnets,
			SecurityGroups:    &[]awsec2.ISecurityGroup{sg},
			PrivateDnsEnabled: jsii.Bool(true),
			// Open would admit the whole VPC CIDR; allowFlows admits
			// only the tasks and the instances.
			Open: jsii.Bool(false),
		})
		if ep.policy {
			for _, st := range thisAccountOnly(*stack.Account()) {
				endpoint.AddToPolicy(st)
			}
		}
	}
	return sg
}

// thisAccountOnly is an interface endpoint's policy as a data perimeter:
// any action, by this account's principals, or by AWS services acting for
// it (the default endpoint policy of AWS's data-perimeter examples, for one
// account). Credentials of another account, stolen or not, get nothing
// through the VPC. Resources are not limited to the account: ECR's
// GetAuthorizationToken and SSM's AWS-owned parameters and documents have
// no resource in it.
func thisAccountOnly(account string) []awsiam.PolicyStatement {
	statement := func(sid string, condition map[string]any) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(sid),
			Principals: &[]awsiam.IPrincipal{awsiam.NewStarPrincipal()},
			Actions:    jsii.Strings("*"),
			Resources:  jsii.Strings("*"),
			Conditions: &condition,
		})
	}
	return []awsiam.PolicyStatement{
		statement("ThisAccountsPrincipals", map[string]any{"StringEquals": map[string]any{"aws:PrincipalAccount": account}}),
		statement("AWSServicesForThisAccount", map[string]any{"Bool": map[string]any{"aws:PrincipalIsAWSService": "true"}}),
	}
}

// s3Perimeter is the S3 gateway endpoint's policy: reading the buckets AWS
// serves the instances from (ECR's image layers, the Amazon Linux 2023
// repositories and the SSM agent's buckets of the region: AWS's
// data-perimeter s3_endpoint_policy.json; ECR User Guide, VPC endpoints,
// minimum S3 permissions), whose requests are presigned by ECR's account or
// anonymous, so no account condition applies; and the application's own
// buckets, for this account's principals.
func s3Perimeter(region, account string, buckets []string) []awsiam.PolicyStatement {
	aws := []string{"prod-" + region + "-starport-layer-bucket", "al2023-repos-" + region + "-*", "al2023-" + region,
		"amazon-ssm-" + region, "aws-ssm-" + region, "amazon-ssm-packages-" + region, region + "-birdwatcher-prod", "aws-ssm-document-attachments-" + region}
	objects := func(names []string) *[]*string {
		var out []*string
		for _, n := range names {
			out = append(out, jsii.String("arn:aws:s3:::"+n+"/*"))
		}
		return &out
	}
	out := []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AWSOwnedBucketsTheInstancesRead"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewStarPrincipal()},
		Actions:    jsii.Strings("s3:GetObject"),
		Resources:  objects(aws),
	})}
	if len(buckets) > 0 {
		resources := *objects(buckets)
		for _, b := range buckets {
			resources = append(resources, jsii.String("arn:aws:s3:::"+b))
		}
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ApplicationBuckets"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewStarPrincipal()},
			Actions:    jsii.Strings("s3:*"),
			Resources:  &resources,
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:PrincipalAccount": account}},
		}))
	}
	return out
}
