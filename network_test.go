package main

import (
	"fmt"
	"regexp"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
)

func TestNetworkStack(t *testing.T) {
	runChecks(t, "Network", []templateCheck{
		{"one VPC with the configured CIDR and DNS", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.ResourceCountIs(jsii.String("AWS::EC2::VPC"), times(1))
			tpl.HasResourceProperties(jsii.String("AWS::EC2::VPC"), map[string]any{
				"CidrBlock": cfg.Network.VpcCidr, "EnableDnsHostnames": true, "EnableDnsSupport": true,
			})
		}},
		{"a public and a private subnet per zone", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.ResourceCountIs(jsii.String("AWS::EC2::Subnet"), times(2*len(cfg.AvailabilityZones)))
			for _, az := range cfg.AvailabilityZones {
				for _, typ := range []string{"Public", "Private"} {
					tpl.HasResourceProperties(jsii.String("AWS::EC2::Subnet"), map[string]any{
						"AvailabilityZone": az,
						"Tags":             assertions.Match_ArrayWith(&[]any{map[string]any{"Key": "aws-cdk:subnet-type", "Value": typ}}),
					})
				}
			}
		}},
		{"public subnets assign no public addresses", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			props := map[string]any{"MapPublicIpOnLaunch": true}
			found := tpl.FindResources(jsii.String("AWS::EC2::Subnet"), map[string]any{"Properties": props})
			assert.Empty(t, *found, "subnets that map public IPs on launch")
		}},
		{"an internet gateway attached to the VPC", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.ResourceCountIs(jsii.String("AWS::EC2::InternetGateway"), times(1))
			tpl.ResourceCountIs(jsii.String("AWS::EC2::VPCGatewayAttachment"), times(1))
		}},
		{"NAT gateways as configured, each with an elastic IP", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.ResourceCountIs(jsii.String("AWS::EC2::NatGateway"), times(cfg.Network.NatGateways))
			tpl.ResourceCountIs(jsii.String("AWS::EC2::EIP"), times(cfg.Network.NatGateways))
		}},
		{"private subnets route to the internet through NAT", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			routes := tpl.FindResources(jsii.String("AWS::EC2::Route"), map[string]any{
				"Properties": map[string]any{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": assertions.Match_AnyValue()},
			})
			assert.Len(t, *routes, len(cfg.AvailabilityZones), "default routes via NAT: one per private subnet")
		}},
		{"flow logs of all traffic to CloudWatch Logs", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::EC2::FlowLog"), map[string]any{
				"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
			})
		}},
		{"flow log group with the configured retention and removal policy", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]any{
				"Properties":          map[string]any{"RetentionInDays": cfg.Network.FlowLogRetentionDays},
				"DeletionPolicy":      policyFor(cfg, "RetainExceptOnCreate"),
				"UpdateReplacePolicy": policyFor(cfg, "Retain"),
			})
		}},
		{"S3 gateway endpoint on the private route tables", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			// Exactly the private subnets' route tables: one per zone, each
			// a route table that the private subnet of that zone uses.
			var private []any
			for i := range cfg.AvailabilityZones {
				private = append(private, map[string]any{"Ref": matching(fmt.Sprintf("^VpcPrivateSubnet%dRouteTable[0-9A-F]{8}$", i+1))})
			}
			tpl.HasResourceProperties(jsii.String("AWS::EC2::VPCEndpoint"), map[string]any{
				"VpcEndpointType": "Gateway",
				"ServiceName":     map[string]any{"Fn::Join": []any{"", []any{"com.amazonaws.", map[string]any{"Ref": "AWS::Region"}, ".s3"}}},
				"RouteTableIds":   private,
			})
		}},
		{"interface endpoints only when switched on", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			eps := tpl.FindResources(jsii.String("AWS::EC2::VPCEndpoint"), map[string]any{
				"Properties": map[string]any{"VpcEndpointType": "Interface", "PrivateDnsEnabled": true},
			})
			services := []string{}
			for _, r := range *eps {
				name := fmt.Sprint(cfn.Props(*r)["ServiceName"])
				services = append(services, regexp.MustCompile(`com\.amazonaws\.[a-z0-9-]+\.([a-z0-9.-]+)`).FindStringSubmatch(name)[1])
			}
			sort.Strings(services)
			want := []string{}
			if cfg.Network.InterfaceEndpoints {
				want = []string{"ec2messages", "ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry", "logs", "secretsmanager", "ssm", "ssmmessages", "sts"}
			}
			assert.Equal(t, want, services, "interface endpoints")
		}},
		{"default security group stripped of its rules", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.ResourceCountIs(jsii.String("Custom::VpcRestrictDefaultSG"), times(1))
		}},
		{"every security group denies egress unless a flow opens it", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			open := tpl.FindResources(jsii.String("AWS::EC2::SecurityGroup"), map[string]any{
				"Properties": map[string]any{"SecurityGroupEgress": assertions.Match_ArrayWith(&[]any{
					map[string]any{"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"},
				})},
			})
			assert.Empty(t, *open, "security groups that allow all outbound traffic")
		}},
		{"outputs vpc_id, private_subnet_ids and private_subnets_cidr", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			for id, desc := range map[string]string{"VpcId": "vpc_id", "PrivateSubnetIds": "private_subnet_ids", "PrivateSubnetsCidr": "private_subnets_cidr"} {
				tpl.HasOutput(jsii.String(id), map[string]any{"Description": matching("^" + desc + ": ")})
			}
		}},
	})
}
