package config

import "fmt"

// Capacity planning: what one container instance holds of the service's
// tasks, and whether the Auto Scaling group can hold what the service asks
// for, including while a deployment runs two revisions at once.
//
// The facts it rests on (instanceTypes in catalog.go holds the figures):
//   - CPU: an instance registers 1,024 CPU units per vCPU ("You can determine
//     the number of CPU units that are available per EC2 instance type by
//     multiplying the vCPUs ... by 1,024", ECS API Reference,
//     ContainerDefinition cpu), and placement reserves the container's Cpu.
//   - Memory: an instance registers less than it has installed, "because of
//     platform memory overhead and memory occupied by the system kernel" (an
//     m4.large registers 7985 of 8192 MiB; ECS Developer Guide,
//     memory-management.html); AWS recommends keeping a 5% buffer for the ECS
//     agent and other critical system processes (AWS Batch User Guide,
//     ecs-reserved-memory.html). Placement reserves the container's hard
//     limit, MemoryMiB.
//   - Network interfaces: each awsvpc task takes an ENI of its own, and the
//     instance's primary interface is one of the instance type's maximum
//     (ECS Developer Guide, task-networking-awsvpc.html). ENI trunking would
//     raise the count but needs the awsvpcTrunking account setting and
//     supported types; the platform does not turn it on.
//   - Deployments: with a minimum healthy percent of 100 (the service's
//     setting), a rolling deployment starts a new task before it stops an old
//     one, so it needs a free slot; BLUE_GREEN, LINEAR and CANARY run a full
//     set of new tasks beside the old ones until the bake ends (ECS Developer
//     Guide, deployment-type-blue-green.html), twice the tasks.

// memoryBufferPercent is the share of an instance's installed memory that
// its tasks cannot reserve (the kernel, the platform and the ECS agent).
const memoryBufferPercent = 5

// TaskSlots is how many of the service's tasks one container instance
// holds, by each resource, and the smallest of them.
type TaskSlots struct {
	ByENIs, ByCPU, ByMemory int
}

// Tasks is how many tasks fit on one instance.
func (s TaskSlots) Tasks() int { return min(s.ByENIs, s.ByCPU, s.ByMemory) }

// TaskCPUUnits and TaskMemoryMiB are what an instance type offers its
// tasks.
func (t InstanceType) TaskCPUUnits() int  { return t.VCPUs * 1024 }
func (t InstanceType) TaskMemoryMiB() int { return t.MemoryMiB * (100 - memoryBufferPercent) / 100 }

// Slots reports how many tasks of s fit on an instance of type t.
func (t InstanceType) Slots(s Service) TaskSlots {
	slots := TaskSlots{ByENIs: t.ENIs - 1}
	if s.Cpu > 0 {
		slots.ByCPU = t.TaskCPUUnits() / s.Cpu
	}
	if s.MemoryMiB > 0 {
		slots.ByMemory = t.TaskMemoryMiB() / s.MemoryMiB
	}
	return slots
}

// DeploymentTasks is the most tasks a deployment runs at once at MaxTasks:
// one more than MaxTasks for ROLLING, twice MaxTasks for the strategies
// that keep the old revision until the bake ends.
func (s Service) DeploymentTasks() int {
	if s.Rollout.Progressive() {
		return 2 * s.MaxTasks
	}
	return s.MaxTasks + 1
}

// validateCapacity refuses a service the cluster cannot hold: a task
// larger than an instance, a floor of tasks the floor of instances cannot
// hold, and a deployment at MaxTasks that MaxInstances cannot hold (for
// the strategies that run two revisions, with one instance to spare, so
// that replacing an instance mid-deployment does not stall it).
func (c Config) validateCapacity(v *validator) {
	s, k := c.Service, c.Cluster
	t, known := instanceTypes[k.InstanceType]
	if !known || s.Cpu < 128 || s.MemoryMiB < 128 || s.MinTasks < 1 || s.MaxTasks < s.MinTasks || s.MaxTasks > 100 ||
		k.MinInstances < 0 || k.MaxInstances < max(k.MinInstances, 1) || k.MaxInstances > 100 {
		return // reported by the fields' own checks
	}
	v.check(s.Cpu <= t.TaskCPUUnits(), "Service.Cpu", s.Cpu, fmt.Sprintf(
		"at most %d CPU units, what a %s (Cluster.InstanceType, %d vCPUs) registers", t.TaskCPUUnits(), k.InstanceType, t.VCPUs))
	v.check(s.MemoryMiB <= t.TaskMemoryMiB(), "Service.MemoryMiB", s.MemoryMiB, fmt.Sprintf(
		"at most %d MiB, what a %s (Cluster.InstanceType, %d MiB installed) leaves tasks after %d%% for the kernel and the ECS agent",
		t.TaskMemoryMiB(), k.InstanceType, t.MemoryMiB, memoryBufferPercent))
	slots := t.Slots(s)
	per := slots.Tasks()
	if per < 1 {
		return
	}
	why := fmt.Sprintf("%d tasks per %s (by network interfaces %d: awsvpc gives each task one and the instance keeps one; by CPU %d; by memory %d)",
		per, k.InstanceType, slots.ByENIs, slots.ByCPU, slots.ByMemory)
	floor := ceilDiv(s.MinTasks, per)
	v.check(k.MinInstances >= floor, "Cluster.MinInstances", k.MinInstances, fmt.Sprintf(
		"at least %d to hold Service.MinTasks (%d) at %s", floor, s.MinTasks, why))
	tasks, spare, what := s.DeploymentTasks(), 0, fmt.Sprintf("a ROLLING deployment at Service.MaxTasks (%d) starts a new task before it stops an old one: %d tasks", s.MaxTasks, s.DeploymentTasks())
	if s.Rollout.Progressive() {
		spare = 1
		what = fmt.Sprintf("a %s deployment at Service.MaxTasks (%d) runs both revisions until the bake ends: %d tasks, with one instance to spare for a replacement", s.Rollout.Strategy, s.MaxTasks, tasks)
	}
	need := ceilDiv(tasks, per) + spare
	v.check(k.MaxInstances >= need, "Cluster.MaxInstances", k.MaxInstances, fmt.Sprintf(
		"at least %d: %s, at %s (or fewer Service.MaxTasks, smaller tasks or a larger Cluster.InstanceType)", need, what, why))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
