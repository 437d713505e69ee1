package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
)

// check runs one assertions.Template assertion and turns its panic into a
// test error that names the scenario.
func check(t *testing.T, name string, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", name, r)
		}
	}()
	assertion()
}

// templateCheck is one fine-grained assertion on one stack, per environment.
type templateCheck struct {
	name   string
	assert func(tpl assertions.Template, cfg config.Config)
}

func runChecks(t *testing.T, stack string, checks []templateCheck) {
	t.Helper()
	for _, env := range config.Names() {
		tpl := template(t, env, stack)
		cfg := envs[env].cfg
		for _, c := range checks {
			t.Run(env+"/"+c.name, func(t *testing.T) {
				check(t, c.name, func() { c.assert(tpl, cfg) })
			})
		}
	}
}

func count(n int) *float64 { return jsii.Number(float64(n)) }

func TestNetworkStack(t *testing.T) {
	runChecks(t, "Network", []templateCheck{
		{"one VPC with the configured CIDR and DNS", func(tpl assertions.Template, cfg config.Config) {
			tpl.ResourceCountIs(jsii.String("AWS::EC2::VPC"), count(1))
			tpl.HasResourceProperties(jsii.String("AWS::EC2::VPC"), map[string]any{
				"CidrBlock": cfg.Network.VpcCidr, "EnableDnsHostnames": true, "EnableDnsSupport": true,
			})
		}},
		{"a public and a private subnet per zone", func(tpl assertions.Template, cfg config.Config) {
			tpl.ResourceCountIs(jsii.String("AWS::EC2::Subnet"), count(2*len(cfg.AvailabilityZones)))
			for _, az := range cfg.AvailabilityZones {
				for _, typ := range []string{"Public", "Private"} {
					tpl.HasResourceProperties(jsii.String("AWS::EC2::Subnet"), map[string]any{
						"AvailabilityZone": az,
						"Tags":             assertions.Match_ArrayWith(&[]any{map[string]any{"Key": "aws-cdk:subnet-type", "Value": typ}}),
					})
				}
			}
		}},
		{"public subnets assign no public addresses", func(tpl assertions.Template, cfg config.Config) {
			props := map[string]any{"MapPublicIpOnLaunch": true}
			found := tpl.FindResources(jsii.String("AWS::EC2::Subnet"), map[string]any{"Properties": props})
			if n := len(*found); n != 0 {
				panic(fmt.Sprintf("%d subnets map public IPs on launch, want 0", n))
			}
		}},
		{"an internet gateway attached to the VPC", func(tpl assertions.Template, cfg config.Config) {
			tpl.ResourceCountIs(jsii.String("AWS::EC2::InternetGateway"), count(1))
			tpl.ResourceCountIs(jsii.String("AWS::EC2::VPCGatewayAttachment"), count(1))
		}},
		{"NAT gateways as configured, each with an elastic IP", func(tpl assertions.Template, cfg config.Config) {
			tpl.ResourceCountIs(jsii.String("AWS::EC2::NatGateway"), count(cfg.Network.NatGateways))
			tpl.ResourceCountIs(jsii.String("AWS::EC2::EIP"), count(cfg.Network.NatGateways))
		}},
		{"private subnets route to the internet through NAT", func(tpl assertions.Template, cfg config.Config) {
			routes := tpl.FindResources(jsii.String("AWS::EC2::Route"), map[string]any{
				"Properties": map[string]any{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": assertions.Match_AnyValue()},
			})
			if n := len(*routes); n != len(cfg.AvailabilityZones) {
				panic(fmt.Sprintf("%d default routes via NAT, want one per private subnet (%d)", n, len(cfg.AvailabilityZones)))
			}
		}},
		{"flow logs of all traffic to CloudWatch Logs", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::EC2::FlowLog"), map[string]any{
				"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
			})
		}},
		{"flow log group with the configured retention and removal policy", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]any{
				"Properties":          map[string]any{"RetentionInDays": cfg.Network.FlowLogRetentionDays},
				"DeletionPolicy":      policyFor(cfg, "RetainExceptOnCreate"),
				"UpdateReplacePolicy": policyFor(cfg, "Retain"),
			})
		}},
		{"S3 gateway endpoint on the private route tables", func(tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::EC2::VPCEndpoint"), map[string]any{
				"VpcEndpointType": "Gateway",
				"ServiceName":     assertions.Match_ObjectLike(&map[string]any{"Fn::Join": assertions.Match_AnyValue()}),
				"RouteTableIds":   assertions.Match_AnyValue(),
			})
		}},
		{"interface endpoints only when switched on", func(tpl assertions.Template, cfg config.Config) {
			eps := tpl.FindResources(jsii.String("AWS::EC2::VPCEndpoint"), map[string]any{
				"Properties": map[string]any{"VpcEndpointType": "Interface", "PrivateDnsEnabled": true},
			})
			services := []string{}
			for _, r := range *eps {
				name := fmt.Sprint((*r)["Properties"].(map[string]any)["ServiceName"])
				services = append(services, regexp.MustCompile(`com\.amazonaws\.[a-z0-9-]+\.([a-z.]+)`).FindStringSubmatch(name)[1])
			}
			sort.Strings(services)
			want := []string{}
			if cfg.Network.InterfaceEndpoints {
				want = []string{"ecr.api", "ecr.dkr", "logs", "secretsmanager"}
			}
			if strings.Join(services, ",") != strings.Join(want, ",") {
				panic(fmt.Sprintf("interface endpoints %v, want %v", services, want))
			}
		}},
		{"default security group stripped of its rules", func(tpl assertions.Template, cfg config.Config) {
			tpl.ResourceCountIs(jsii.String("Custom::VpcRestrictDefaultSG"), count(1))
		}},
		{"every security group denies egress unless a flow opens it", func(tpl assertions.Template, cfg config.Config) {
			open := tpl.FindResources(jsii.String("AWS::EC2::SecurityGroup"), map[string]any{
				"Properties": map[string]any{"SecurityGroupEgress": assertions.Match_ArrayWith(&[]any{
					map[string]any{"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"},
				})},
			})
			if n := len(*open); n != 0 {
				panic(fmt.Sprintf("%d security groups allow all outbound traffic, want 0", n))
			}
		}},
		{"outputs vpc_id, private_subnet_ids and private_subnets_cidr", func(tpl assertions.Template, cfg config.Config) {
			for id, desc := range map[string]string{"VpcId": "vpc_id", "PrivateSubnetIds": "private_subnet_ids", "PrivateSubnetsCidr": "private_subnets_cidr"} {
				tpl.HasOutput(jsii.String(id), map[string]any{"Description": assertions.Match_StringLikeRegexp(jsii.String("^" + desc + ": "))})
			}
		}},
	})
}
