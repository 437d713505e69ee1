package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Network configures the VPC and its subnets.
type Network struct {
	// VpcCidr is the IPv4 block of the VPC: an RFC 1918 prefix from /16 to /24
	// that does not overlap the Docker bridge (172.17.0.0/16) of the ECS
	// instances. Default "10.10.0.0/16" in dev, "10.20.0.0/16" in prod.
	VpcCidr string
	// PublicSubnetMask is the prefix length of each public subnet (16-28).
	// Default 24.
	PublicSubnetMask int
	// PrivateSubnetMask is the prefix length of each private subnet (16-28).
	// Default 20 (room for awsvpc task ENIs).
	PrivateSubnetMask int
	// NatGateways is the number of NAT gateways, 1 up to one per zone.
	// Default 1 in dev, one per zone in prod.
	NatGateways int
	// FlowLogRetentionDays is how long VPC flow logs are kept; one of the
	// values CloudWatch Logs accepts. Default 14 in dev, 365 in prod.
	FlowLogRetentionDays int
	// InterfaceEndpoints adds the interface VPC endpoints of every AWS API
	// the tasks, the container instances and the rotation function use
	// (ECS, its agent and telemetry, ECR, CloudWatch Logs, Secrets Manager,
	// SSM and Session Manager, STS), and closes their egress to those
	// endpoints and the S3 gateway endpoint's prefix list: AWS is then
	// reached without the internet; prod promises it. Default false in dev,
	// true in prod.
	InterfaceEndpoints bool
	// InternetEgress is what the application's tasks may reach on the
	// internet, through the NAT gateways: each rule a destination CIDR, a
	// TCP port and why. Without InterfaceEndpoints the tasks reach AWS this
	// way too, so the list must then allow 0.0.0.0/0 on 443, and the
	// instances and the rotation function get that rule as well. Prod
	// promises never to allow 0.0.0.0/0. Default: 0.0.0.0/0 on 443 in dev,
	// nothing in prod.
	InternetEgress []Egress
	// ApplicationBuckets are the S3 buckets (names) the application's tasks
	// may reach through the S3 gateway endpoint, with InterfaceEndpoints:
	// the endpoint's policy allows them besides what ECR and the instances
	// need, and the tasks get egress to S3 only when the list is not
	// empty. Default: none.
	ApplicationBuckets []string
}

// Egress is one destination on the internet the tasks may open
// connections to.
type Egress struct {
	// CIDR is the IPv4 destination, such as 203.0.113.0/24 or 0.0.0.0/0.
	CIDR string
	// Port is the TCP port (1-65535).
	Port int
	// Purpose says what is there; it becomes the rule's description.
	Purpose string
}

// AllowsAnyHTTPS reports whether rules allow TCP 443 to anywhere, which AWS
// APIs need when they are not reached through endpoints.
func AllowsAnyHTTPS(rules []Egress) bool {
	return slices.ContainsFunc(rules, func(e Egress) bool { return e.CIDR == "0.0.0.0/0" && e.Port == 443 })
}

var (
	prefixListID = regexp.MustCompile(`^pl-[0-9a-f]{8,17}$`)
	bucketName   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// dockerBridge is the address range of docker0 on ECS-optimized AMIs; a
	// VPC overlapping it makes part of the VPC unreachable from containers.
	dockerBridge = netip.MustParsePrefix("172.17.0.0/16")
	private      = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
	}
)

func (c Config) validateNetwork(v *validator) {
	n := c.Network
	prefix, err := netip.ParsePrefix(n.VpcCidr)
	switch {
	case err != nil:
		v.add("Network.VpcCidr", n.VpcCidr, "an IPv4 CIDR block such as 10.10.0.0/16")
	case !prefix.Addr().Is4() || prefix.Masked() != prefix:
		v.add("Network.VpcCidr", n.VpcCidr, "an IPv4 network address with no host bits set, such as 10.10.0.0/16")
	case prefix.Bits() < 16 || prefix.Bits() > 24:
		v.add("Network.VpcCidr", n.VpcCidr, "a prefix length from /16 to /24")
	case !slices.ContainsFunc(private, func(p netip.Prefix) bool { return p.Contains(prefix.Addr()) && p.Bits() <= prefix.Bits() }):
		v.add("Network.VpcCidr", n.VpcCidr, "a private (RFC 1918) range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
	case prefix.Overlaps(dockerBridge):
		v.add("Network.VpcCidr", n.VpcCidr, "a range that does not overlap the Docker bridge 172.17.0.0/16 of the ECS instances")
	default:
		c.validateSubnets(v, prefix)
	}
	v.check(n.PublicSubnetMask >= 16 && n.PublicSubnetMask <= 28, "Network.PublicSubnetMask", n.PublicSubnetMask, "a prefix length from 16 to 28")
	v.check(n.PrivateSubnetMask >= 16 && n.PrivateSubnetMask <= 28, "Network.PrivateSubnetMask", n.PrivateSubnetMask, "a prefix length from 16 to 28")
	v.check(n.NatGateways >= 1 && n.NatGateways <= max(len(c.AvailabilityZones), 1), "Network.NatGateways", n.NatGateways,
		fmt.Sprintf("from 1 to the number of availability zones (%d)", len(c.AvailabilityZones)))
	v.check(slices.Contains(RetentionDays, n.FlowLogRetentionDays), "Network.FlowLogRetentionDays", n.FlowLogRetentionDays,
		fmt.Sprintf("one of %v", RetentionDays))
	for i, e := range n.InternetEgress {
		field := fmt.Sprintf("Network.InternetEgress[%d]", i)
		p, err := netip.ParsePrefix(e.CIDR)
		v.check(err == nil && p.Addr().Is4() && p.Masked() == p, field+".CIDR", e.CIDR, "an IPv4 network such as 203.0.113.0/24 or 0.0.0.0/0")
		v.check(e.Port >= 1 && e.Port <= 65535, field+".Port", e.Port, "a TCP port from 1 to 65535")
		v.check(len(e.Purpose) >= 3 && len(e.Purpose) <= 200, field+".Purpose", e.Purpose, "what is there, 3-200 characters (the rule's description)")
	}
	for i, b := range n.ApplicationBuckets {
		v.check(bucketName.MatchString(b) && !strings.Contains(b, ".."), fmt.Sprintf("Network.ApplicationBuckets[%d]", i), b,
			"an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit")
	}
	v.check(n.InterfaceEndpoints || AllowsAnyHTTPS(n.InternetEgress), "Network.InternetEgress", n.InternetEgress,
		"a rule for 0.0.0.0/0 on port 443: without Network.InterfaceEndpoints the tasks, the instances and the rotation function reach AWS APIs through the NAT gateways")
}

// validateSubnets checks that one public and one private subnet per zone fit
// into the VPC block without overlapping, the way the VPC construct lays them out.
func (c Config) validateSubnets(v *validator, vpc netip.Prefix) {
	n := c.Network
	larger := fmt.Sprintf("a subnet no larger than the VPC (/%d or longer)", vpc.Bits())
	v.check(n.PublicSubnetMask >= vpc.Bits(), "Network.PublicSubnetMask", n.PublicSubnetMask, larger)
	v.check(n.PrivateSubnetMask >= vpc.Bits(), "Network.PrivateSubnetMask", n.PrivateSubnetMask, larger)
	if n.PublicSubnetMask < vpc.Bits() || n.PrivateSubnetMask < vpc.Bits() || n.PublicSubnetMask > 28 || n.PrivateSubnetMask > 28 {
		return // the masks themselves are wrong; the fit is meaningless
	}
	zones := uint64(len(c.AvailabilityZones))
	need := zones<<(32-n.PublicSubnetMask) + zones<<(32-n.PrivateSubnetMask)
	have := uint64(1) << (32 - vpc.Bits())
	v.check(need <= have, "Network.VpcCidr", n.VpcCidr,
		fmt.Sprintf("room for %d public /%d and %d private /%d subnets (%d addresses, the block has %d)",
			zones, n.PublicSubnetMask, zones, n.PrivateSubnetMask, need, have))
}
