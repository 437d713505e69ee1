package config

import (
	"fmt"
	"regexp"
)

// Cluster configures the Auto Scaling group of ECS container instances.
type Cluster struct {
	// MinInstances is the lower bound of the Auto Scaling group (0-100),
	// enough to hold Service.MinTasks. Default 1 in dev, 3 in prod.
	MinInstances int
	// MaxInstances is the upper bound of the Auto Scaling group
	// (MinInstances-100, at least 1), enough for what the service runs
	// during a deployment (capacity.go). Default 3 in dev, 13 in prod.
	MaxInstances int
	// InstanceType is the x86_64 EC2 instance type of the container
	// instances. Default "t3.medium" in dev, "m6i.large" in prod.
	InstanceType string
	// AmiID pins the ECS-optimized Amazon Linux 2023 AMI (ami-...). Empty
	// follows AWS's recommended AMI, so a deploy after an AMI release
	// replaces the instances by an instance refresh (a new instance first,
	// then the old one drained of its tasks and terminated). Default "".
	AmiID string
	// RootVolumeGiB is the encrypted gp3 root volume (30-1000). Default 30.
	RootVolumeGiB int
	// ManagedTerminationProtection stops the capacity provider's scale-in
	// from terminating instances that run tasks. It also makes the group
	// impossible to delete while instances are protected, so it is off where
	// `cdk destroy` must complete, which dev promises. Default false in dev,
	// true in prod.
	ManagedTerminationProtection bool
	// DetailedMonitoring sends the instances' EC2 metrics every minute
	// instead of every five (Control Tower CT.EC2.PR.10), at a charge per
	// instance. Turning it on or off changes the launch template, so the
	// next deploy replaces the instances (an instance refresh). Default
	// false in dev, true in prod.
	DetailedMonitoring bool
	// ContainerInsights is "enabled" (service and cluster metrics) or
	// "enhanced" (also task and container metrics, and the new
	// deployment's health, at a higher CloudWatch cost). Default "enabled"
	// in dev, "enhanced" in prod.
	ContainerInsights string
}

var (
	amiID = regexp.MustCompile(`^ami-[0-9a-f]{8}([0-9a-f]{9})?$`)
)

func (c Config) validateCluster(v *validator) {
	k := c.Cluster
	v.check(k.MinInstances >= 0 && k.MinInstances <= 100, "Cluster.MinInstances", k.MinInstances, "from 0 to 100")
	v.check(k.MaxInstances >= max(k.MinInstances, 1) && k.MaxInstances <= 100, "Cluster.MaxInstances", k.MaxInstances,
		fmt.Sprintf("from Cluster.MinInstances (%d, at least 1) to 100", k.MinInstances))
	_, known := instanceTypes[k.InstanceType]
	v.check(known, "Cluster.InstanceType", k.InstanceType, fmt.Sprintf(
		"a current x86_64 instance type of medium size or larger, such as t3.medium or m6i.large (families %s; lib/config/catalog.go lists the sizes and how to add one)",
		familiesOf(InstanceTypes())))
	v.check(k.AmiID == "" || amiID.MatchString(k.AmiID), "Cluster.AmiID", k.AmiID, "empty (recommended ECS-optimized AMI) or an AMI ID such as ami-0123456789abcdef0")
	v.check(k.ContainerInsights == "enabled" || k.ContainerInsights == "enhanced", "Cluster.ContainerInsights", k.ContainerInsights, `"enabled" or "enhanced"`)
	v.check(k.RootVolumeGiB >= 30 && k.RootVolumeGiB <= 1000, "Cluster.RootVolumeGiB", k.RootVolumeGiB, "from 30 (the AMI's snapshot size) to 1000")
}
