package config

import (
	"fmt"
	"net/netip"
	"slices"
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
	// InterfaceEndpoints adds VPC interface endpoints for ECR, CloudWatch Logs
	// and Secrets Manager so that this traffic stays off the NAT gateways.
	// Default false in dev, true in prod.
	InterfaceEndpoints bool
}

var (
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
